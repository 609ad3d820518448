import type { EndedRunsQuery, Mark, RunState } from "@cairn/backend-interface";
import type { PostgresConnection } from "./postgres-connection.js";

type RunRef = Pick<RunState, "workflowSlug" | "runId">;

/**
 * Retention on Postgres: the ended runs in the order they ended (runs_ended_idx), and the deletion of runs with
 * their events and step rows in one statement (one transaction). The run row's `NOT live` is checked by the
 * DELETE itself (a feed position left without events goes with them), under the row lock every run-advancing write takes, so a run that is pending or running is never
 * deleted, and an ended run cannot start again.
 */
export class PostgresRetention {
  private readonly ended: string;
  private readonly remove: string;
  private readonly putMarkSql: string;
  private readonly getMarkSql: string;
  private readonly deleteMarksSql: string;

  constructor(
    private readonly conn: PostgresConnection,
    private readonly schema: string,
    s: string,
  ) {
    this.ended = `SELECT workflow_slug, run_id FROM ${s}.runs
      WHERE status = ANY($1::text[]) AND NOT live AND (state->>'endedAtUs')::bigint < $2 AND ($3::text IS NULL OR workflow_slug = $3)
      ORDER BY (state->>'endedAtUs')::bigint, run_id LIMIT $4`;
    this.remove = `WITH d AS (
        DELETE FROM ${s}.runs r USING unnest($1::text[], $2::text[]) AS t(workflow_slug, run_id)
        WHERE r.run_id = t.run_id AND r.workflow_slug = t.workflow_slug AND NOT r.live RETURNING r.run_id, r.workflow_slug),
      e AS (DELETE FROM ${s}.events ev USING d WHERE ev.run_id = d.run_id AND ev.workflow_slug = d.workflow_slug RETURNING ev.xid, ev.seq),
      fc AS (DELETE FROM ${s}.event_commits c WHERE c.xid IN (SELECT xid FROM e)
        AND NOT EXISTS (SELECT 1 FROM ${s}.events x WHERE x.xid = c.xid AND x.seq NOT IN (SELECT seq FROM e))),
      st AS (DELETE FROM ${s}.steps x USING d WHERE x.run_id = d.run_id AND x.workflow_slug = d.workflow_slug)
      SELECT run_id FROM d`;
    this.putMarkSql = `INSERT INTO ${s}.marks (key, holder, at_us) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING RETURNING key, holder, at_us`;
    this.getMarkSql = `SELECT key, holder, at_us FROM ${s}.marks WHERE key = $1`;
    this.deleteMarksSql = `DELETE FROM ${s}.marks WHERE left(key, length($1)) = $1 AND at_us < $2`;
  }

  /** Records a mark unless its key exists; a lost race reads the winner's in a second statement (a fresh snapshot). */
  async putMark(mark: Mark): Promise<Mark> {
    type Row = { key: string; holder: string; at_us: string };
    const toMark = (r: Row): Mark => ({ key: r.key, holder: r.holder, atUs: Number(r.at_us) });
    const ins = await this.conn.query<Row>({
      name: `${this.schema}:putMark`,
      text: this.putMarkSql,
      values: [mark.key, mark.holder, mark.atUs],
    });
    if (ins.rows[0]) return toMark(ins.rows[0]);
    const got = await this.conn.query<Row>({
      name: `${this.schema}:getMark`,
      text: this.getMarkSql,
      values: [mark.key],
    });
    return got.rows[0] ? toMark(got.rows[0]) : mark;
  }

  async deleteMarks(prefix: string, beforeUs: number): Promise<number> {
    return (
      (
        await this.conn.query({
          name: `${this.schema}:deleteMarks`,
          text: this.deleteMarksSql,
          values: [prefix, beforeUs],
        })
      ).rowCount ?? 0
    );
  }

  async endedRuns(q: EndedRunsQuery): Promise<RunRef[]> {
    const r = await this.conn.query<{ workflow_slug: string; run_id: string }>({
      name: `${this.schema}:endedRuns`,
      text: this.ended,
      values: [[...q.statuses], q.endedBeforeUs, q.workflowSlug ?? null, q.limit],
    });
    return r.rows.map((x) => ({ workflowSlug: x.workflow_slug, runId: x.run_id }));
  }

  async deleteEnded(runs: readonly RunRef[]): Promise<string[]> {
    const r = await this.conn.query<{ run_id: string }>({
      name: `${this.schema}:deleteRuns`,
      text: this.remove,
      values: [runs.map((x) => x.workflowSlug), runs.map((x) => x.runId)],
    });
    const deleted = new Set(r.rows.map((x) => x.run_id));
    return runs.filter((x) => deleted.has(x.runId)).map((x) => x.runId);
  }
}
