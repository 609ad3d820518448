import {
  foldRun,
  isTerminalRunStatus,
  type Cursor,
  type Event,
  type Mark,
  type RunState,
  type StepState,
  type WorkerPresence,
  type WorkflowRegistration,
  type WorkflowVersion,
} from "@cairn/backend-interface";

/** One run's record: its events in append order and their projection (the pure reducers' fold). */
export interface MemoryRun {
  workflowSlug: string;
  runId: string;
  events: Event[];
  /** The feed sequence number of each event (same index as `events`). */
  feedSeqs: number[];
  run: RunState | null;
  steps: Map<string, StepState>;
}

/**
 * The whole store of the memory driver: runs by address, run ids, idempotency keys, the catalog and presence
 * records. Only events, registrations, versions and presence records are state; everything else is derived from
 * them (see MemoryStore.apply), so a snapshot holds those alone.
 */
export class MemoryStore {
  /** Runs by `${workflowSlug}\0${runId}`. */
  readonly runs = new Map<string, MemoryRun>();
  /** The address of each run id (run ids are unique across workflows). */
  readonly runIds = new Map<string, string>();
  /** Run ids by `${workflowSlug}\0${idempotencyKey}`. */
  readonly keys = new Map<string, string>();
  readonly workflows = new Map<string, WorkflowRegistration>();
  /** Versions by `${workflowSlug}\0${versionId}`. */
  readonly versions = new Map<string, WorkflowVersion>();
  readonly presences = new Map<string, WorkerPresence>();
  /** Write-once marks by key. */
  readonly marks = new Map<string, Mark>();
  /** Compare-and-set cursors by key. */
  readonly cursors = new Map<string, Cursor>();
  /** The event feed: every kept event by ascending feed sequence number (commit order: writes are serial here). */
  feed: Array<{ seq: number; event: Event; key: string }> = [];
  /** The next feed sequence number; never reused, also after deletions. */
  nextFeedSeq = 1;

  /** A run's record, created empty when `create`. */
  record(workflowSlug: string, runId: string, create: boolean): MemoryRun | undefined {
    const key = `${workflowSlug}\0${runId}`;
    let rec = this.runs.get(key);
    if (!rec && create) {
      rec = { workflowSlug, runId, events: [], feedSeqs: [], run: null, steps: new Map() };
      this.runs.set(key, rec);
    }
    return rec;
  }

  /** The record of a run id, in whichever workflow it is. */
  byRunId(runId: string): MemoryRun | undefined {
    const key = this.runIds.get(runId);
    return key === undefined ? undefined : this.runs.get(key);
  }

  /** Removes an ended run and what derives from it; false (nothing changed) when it is missing or has not ended. */
  deleteEnded(workflowSlug: string, runId: string): boolean {
    const rec = this.record(workflowSlug, runId, false);
    if (!rec?.run || !isTerminalRunStatus(rec.run.status)) return false;
    const key = `${workflowSlug}\0${runId}`;
    this.runs.delete(key);
    this.runIds.delete(runId);
    this.feed = this.feed.filter((f) => f.key !== key);
    if (rec.run.idempotencyKey !== undefined) this.keys.delete(`${workflowSlug}\0${rec.run.idempotencyKey}`);
    return true;
  }

  /**
   * Appends events to a run and folds them into its projection, the indexes (ids, idempotency keys) and the feed.
   * `feedSeqs` restores the feed numbers of a snapshot (then call sortFeed once all runs are loaded).
   */
  apply(rec: MemoryRun, events: readonly Event[], feedSeqs?: readonly number[]): void {
    const after = foldRun(rec.run, rec.steps, events);
    const key = `${rec.workflowSlug}\0${rec.runId}`;
    events.forEach((event, i) => {
      const seq = feedSeqs?.[i] ?? this.nextFeedSeq;
      this.nextFeedSeq = Math.max(this.nextFeedSeq, seq + 1);
      rec.feedSeqs.push(seq);
      this.feed.push({ seq, event, key });
    });
    rec.events.push(...events);
    rec.run = after.run;
    rec.steps = after.steps;
    const run = rec.run;
    if (run) {
      this.runIds.set(run.runId, `${rec.workflowSlug}\0${rec.runId}`);
      if (run.idempotencyKey !== undefined) this.keys.set(`${run.workflowSlug}\0${run.idempotencyKey}`, run.runId);
    }
  }

  /** Puts the feed back in sequence order (after a snapshot load, which applies run by run). */
  sortFeed(): void {
    this.feed.sort((a, b) => a.seq - b.seq);
  }

  /** The feed entries after sequence number `after`, of `types` when given, at most `limit`. */
  feedAfter(after: number, types: readonly string[] | undefined, limit: number): Array<{ seq: number; event: Event }> {
    let lo = 0;
    let hi = this.feed.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.feed[mid]!.seq <= after) lo = mid + 1;
      else hi = mid;
    }
    const wanted = types ? new Set(types) : null;
    const out: Array<{ seq: number; event: Event }> = [];
    for (let i = lo; i < this.feed.length && out.length < limit; i++) {
      const f = this.feed[i]!;
      if (!wanted || wanted.has(f.event.type)) out.push(f);
    }
    return out;
  }
}
