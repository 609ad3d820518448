import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { isTerminalRunStatus, type EndedRunsQuery, type RunState } from "@cairn/backend-interface";
import { removeIfExists } from "./fs-atomic.js";
import type { EventLog } from "./fs-event-log.js";
import { dayBucket, type FsLayout, type RunAddress } from "./fs-layout.js";
import type { FsQueries } from "./fs-queries.js";
import { hashIdempotencyKey } from "./fs-submission.js";

/**
 * Retention on the filesystem: ended runs found through the created-at index (every run is read: the store has no
 * index by end time, so the cost grows with the number of runs), and the deletion of a run: its directory is renamed
 * into tmp/ (one atomic step: readers see the whole run or none of it) and removed, then its index entries. A crash
 * in between leaves index entries without a run, which readers already treat as the remains of a failed submission
 * and remove after the orphan grace period.
 */
export class FsRetention {
  constructor(
    private readonly layout: FsLayout,
    private readonly log: EventLog,
    private readonly queries: FsQueries,
  ) {}

  async endedRuns(q: EndedRunsQuery): Promise<RunAddress[]> {
    const runs = await this.queries.runs({
      status: [...q.statuses],
      ...(q.workflowSlug !== undefined ? { workflowSlug: q.workflowSlug } : {}),
    });
    const old = runs.filter((r) => r.endedAtUs !== undefined && r.endedAtUs < q.endedBeforeUs);
    old.sort((a, b) => (a.endedAtUs ?? 0) - (b.endedAtUs ?? 0) || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
    return old.slice(0, q.limit).map((r) => ({ workflowSlug: r.workflowSlug, runId: r.runId }));
  }

  /** Deletes one run if it has ended (checked on its fresh view under this process's lock on the run). */
  async deleteEnded(a: RunAddress): Promise<boolean> {
    return this.log.withRun(a, async (view) => {
      const run: RunState | null = view.run;
      if (!run || !isTerminalRunStatus(run.status)) return false;
      const events = await this.log.readEvents(a);
      const doomed = join(this.layout.tmpDir(), `deleted-${a.runId}-${randomUUID()}`);
      await rename(this.layout.runDir(a), doomed);
      this.log.forget(a);
      await rm(doomed, { recursive: true, force: true });
      const days = new Set(events.map((e) => dayBucket(e.timestampUs)));
      await Promise.all([
        removeIfExists(this.layout.runIndexFile(a.runId)),
        removeIfExists(this.layout.createdFile(a, run.createdAtUs)),
        removeIfExists(this.layout.liveFile(a)),
        ...[...days].map((day) => removeIfExists(this.layout.touchedFile(day, a))),
        ...(run.idempotencyKey === undefined
          ? []
          : [removeIfExists(this.layout.idempotencyFile(a.workflowSlug, hashIdempotencyKey(run.idempotencyKey)))]),
      ]);
      return true;
    });
  }
}
