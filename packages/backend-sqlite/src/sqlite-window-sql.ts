/** What an analytics window selects: a time range, optionally one workflow and some runs. */
export interface WindowSelection {
  startUs: number;
  endUs: number;
  workflowSlug?: string | undefined;
  runIds?: readonly string[] | undefined;
}

/**
 * The SQL conditions (and their parameters, in order) of a window over a table: `time` between the window's bounds,
 * of its workflow and its runs when given. `prefix` qualifies the columns (`"r."`). Callers add their own conditions.
 */
export function windowConditions(
  w: WindowSelection,
  time: string,
  prefix = "",
): { where: string[]; params: unknown[] } {
  const where = [`${prefix}${time} BETWEEN ? AND ?`];
  const params: unknown[] = [w.startUs, w.endUs];
  if (w.workflowSlug !== undefined) {
    where.push(`${prefix}workflow_slug = ?`);
    params.push(w.workflowSlug);
  }
  if (w.runIds !== undefined) {
    where.push(`${prefix}run_id IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(w.runIds));
  }
  return { where, params };
}
