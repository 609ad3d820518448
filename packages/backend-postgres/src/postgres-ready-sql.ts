/**
 * The ready queue in SQL: steps of live runs that are scheduled, in claim order (priority first, then the time they
 * became available, then ids), through steps_ready_by_workflow_idx (migration 0020), which leads with the workflow.
 * Every query walks the ready steps of the workflows it is about, one walk per workflow, and merges the walks, so its
 * cost is that of those workflows' first rows, however many ready steps other workflows have.
 */

/** The ready condition on the steps alias `t` (the index's predicate). */
export const isReady = (t: string): string => `${t}.status = 'scheduled' AND ${t}.run_live`;

/** Claim order of the rows of alias `t`. */
export const readyOrder = (t: string): string => `${t}.priority DESC, ${t}.available_at_us, ${t}.run_id, ${t}.step_id`;

/** Every workflow with ready steps (one text column), by a loose scan of the index: one probe per workflow. */
export function readyWorkflowsSql(s: string): string {
  return `(WITH RECURSIVE k(slug) AS (
      (SELECT x.workflow_slug FROM ${s}.steps x WHERE ${isReady("x")} ORDER BY x.workflow_slug LIMIT 1)
      UNION ALL
      SELECT (SELECT x.workflow_slug FROM ${s}.steps x WHERE ${isReady("x")} AND x.workflow_slug > k.slug ORDER BY x.workflow_slug LIMIT 1)
      FROM k WHERE k.slug IS NOT NULL)
    SELECT slug FROM k WHERE slug IS NOT NULL)`;
}

/** The workflow named by text parameter `param`, or every workflow with ready steps when it is null. */
export function oneOrEveryWorkflowSql(s: string, param: string): string {
  return `(SELECT ${param}::text WHERE ${param}::text IS NOT NULL
      UNION ALL SELECT a.slug FROM ${readyWorkflowsSql(s)} a WHERE ${param}::text IS NULL)`;
}

/** The columns every row of readyStepsSql has: the step's address and the claim order's columns. */
const READY_COLUMNS = "s.workflow_slug, s.run_id, s.step_id, s.priority, s.available_at_us";

/**
 * The first `limit` ready steps in claim order of the workflows `workflows` (a FROM item of one text column) that
 * also satisfy `where` (on alias s): READY_COLUMNS and the `extra` columns of alias s. Each workflow's walk stops after
 * `limit` rows; `lock` locks them as they are read (FOR UPDATE SKIP LOCKED: those beyond the first `limit` of all are
 * unlocked at the statement's end, so another claimer misses them for that long only). The result's rows are alias w.
 */
export function readyStepsSql(
  s: string,
  workflows: string,
  extra: string[],
  where: string,
  limit: string,
  lock: boolean,
): string {
  const columns = [READY_COLUMNS, ...extra.map((c) => `s.${c}`)].join(", ");
  return `SELECT w.* FROM ${workflows} AS k(slug) CROSS JOIN LATERAL (
      SELECT ${columns} FROM ${s}.steps s WHERE s.workflow_slug = k.slug AND ${isReady("s")} AND ${where}
      ORDER BY ${readyOrder("s")} LIMIT ${limit}${lock ? " FOR UPDATE SKIP LOCKED" : ""}) w
    ORDER BY ${readyOrder("w")} LIMIT ${limit}`;
}
