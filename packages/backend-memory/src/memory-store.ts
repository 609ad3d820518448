import { foldRun, isTerminalRunStatus, type Cursor, type Event, type Mark, type RunState, type StepState, type WorkerPresence, type WorkflowRegistration, type WorkflowVersion } from "@cairn/backend-interface";

/** One run's record: its events in append order and their projection (the pure reducers' fold). */
export interface MemoryRun {
  workflowSlug: string;
  runId: string;
  events: Event[];
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

  /** A run's record, created empty when `create`. */
  record(workflowSlug: string, runId: string, create: boolean): MemoryRun | undefined {
    const key = `${workflowSlug}\0${runId}`;
    let rec = this.runs.get(key);
    if (!rec && create) {
      rec = { workflowSlug, runId, events: [], run: null, steps: new Map() };
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
    this.runs.delete(`${workflowSlug}\0${runId}`);
    this.runIds.delete(runId);
    if (rec.run.idempotencyKey !== undefined) this.keys.delete(`${workflowSlug}\0${rec.run.idempotencyKey}`);
    return true;
  }

  /** Appends events to a run and folds them into its projection and the indexes (ids, idempotency keys). */
  apply(rec: MemoryRun, events: readonly Event[]): void {
    const after = foldRun(rec.run, rec.steps, events);
    rec.events.push(...events);
    rec.run = after.run;
    rec.steps = after.steps;
    const run = rec.run;
    if (run) {
      this.runIds.set(run.runId, `${rec.workflowSlug}\0${rec.runId}`);
      if (run.idempotencyKey !== undefined) this.keys.set(`${run.workflowSlug}\0${run.idempotencyKey}`, run.runId);
    }
  }
}
