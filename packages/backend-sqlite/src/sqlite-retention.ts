import type { Database, Statement } from "better-sqlite3";
import type { EndedRunsQuery, Mark, RunState } from "@cairn/backend-interface";

type RunRef = Pick<RunState, "workflowSlug" | "runId">;

/**
 * Retention on SQLite: the ended runs in the order they ended (the runs_ended index), and the deletion of a run with
 * every row derived from it. Deletion must run inside a write transaction; a run still live is left as it is.
 */
export class SqliteRetention {
  private readonly s: Record<
    | "ended"
    | "endedOfWorkflow"
    | "head"
    | "facts"
    | "events"
    | "steps"
    | "tags"
    | "key"
    | "run"
    | "putMark"
    | "getMark"
    | "deleteMarks",
    Statement
  >;

  constructor(db: Database) {
    const p = (sql: string) => db.prepare(sql);
    const ended = (
      extra: string,
    ) => `SELECT workflow_slug, run_id, json_extract(state, '$.endedAtUs') AS ended FROM runs INDEXED BY runs_ended
      WHERE status = ? AND live = 0 AND json_extract(state, '$.endedAtUs') < ? ${extra} ORDER BY json_extract(state, '$.endedAtUs'), run_id LIMIT ?`;
    this.s = {
      ended: p(ended("")),
      endedOfWorkflow: p(ended("AND workflow_slug = ?")),
      head: p(
        "SELECT live, json_extract(state, '$.idempotencyKey') AS key FROM runs WHERE run_id = ? AND workflow_slug = ?",
      ),
      // The facts' primary key is (type, timestamp_us, seq): found through the run's events, not by a scan.
      facts: p(
        "DELETE FROM event_facts WHERE (type, timestamp_us, seq) IN (SELECT type, timestamp_us, seq FROM events WHERE run_id = ?)",
      ),
      events: p("DELETE FROM events WHERE run_id = ?"),
      steps: p("DELETE FROM steps WHERE run_id = ?"),
      tags: p("DELETE FROM run_tags WHERE run_id = ?"),
      key: p("DELETE FROM idempotency_keys WHERE workflow_slug = ? AND idempotency_key = ? AND run_id = ?"),
      run: p("DELETE FROM runs WHERE run_id = ?"),
      putMark: p("INSERT INTO marks (key, holder, at_us) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING"),
      getMark: p("SELECT key, holder, at_us AS atUs FROM marks WHERE key = ?"),
      deleteMarks: p("DELETE FROM marks WHERE substr(key, 1, length(?)) = ? AND at_us < ?"),
    };
  }

  /** Ended runs per the query: each status's index range, merged in ended order. */
  endedRuns(q: EndedRunsQuery): RunRef[] {
    const rows: Array<{ workflow_slug: string; run_id: string; ended: number }> = [];
    for (const status of q.statuses) {
      const args =
        q.workflowSlug === undefined
          ? [status, q.endedBeforeUs, q.limit]
          : [status, q.endedBeforeUs, q.workflowSlug, q.limit];
      rows.push(
        ...((q.workflowSlug === undefined ? this.s.ended : this.s.endedOfWorkflow).all(...args) as typeof rows),
      );
    }
    rows.sort((a, b) => a.ended - b.ended || (a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0));
    return rows.slice(0, q.limit).map((r) => ({ workflowSlug: r.workflow_slug, runId: r.run_id }));
  }

  /** Records a mark unless its key exists (inside the caller's write transaction); the mark stored under the key. */
  putMark(mark: Mark): Mark {
    this.s.putMark.run(mark.key, mark.holder, mark.atUs);
    return this.s.getMark.get(mark.key) as Mark;
  }

  /** Deletes marks under `prefix` older than `beforeUs` (inside the caller's write transaction). */
  deleteMarks(prefix: string, beforeUs: number): number {
    return this.s.deleteMarks.run(prefix, prefix, beforeUs).changes;
  }

  /** Deletes one ended run and its rows (inside the caller's transaction); false when it is missing or still live. */
  deleteEnded(run: RunRef): boolean {
    const head = this.s.head.get(run.runId, run.workflowSlug) as { live: number; key: string | null } | undefined;
    if (!head || head.live !== 0) return false;
    this.s.facts.run(run.runId);
    this.s.events.run(run.runId);
    this.s.steps.run(run.runId);
    this.s.tags.run(run.runId);
    if (head.key !== null) this.s.key.run(run.workflowSlug, head.key, run.runId);
    this.s.run.run(run.runId);
    return true;
  }
}
