import { foldRun, isTerminalRunStatus } from "@cairn/backend-interface";
import type { Event, RunState, StepState } from "@cairn/backend-interface";

/** The projection rows one write touches, after applying its events with the pure reducers. */
export interface ProjectedWrite {
  /** The run's state after the write (null when the run has no workflow events), and whether this write changed it. */
  run: RunState | null;
  runChanged: boolean;
  /** Liveness before and after: a change is propagated to every step row of the run. */
  liveBefore: boolean;
  liveAfter: boolean;
  /** New state of every step this write touched. */
  steps: Map<string, StepState>;
  /** Workers seen (StepStarted, StepHeartbeat): id → latest timestamp. */
  workers: Map<string, number>;
  /** True when the write makes work ready or startable (wake idle workers). */
  notify: boolean;
}

/** A run is live when it exists and has not ended: only then are its steps listed and claimable. */
export function isLive(run: RunState | null): boolean {
  return run !== null && !isTerminalRunStatus(run.status);
}

/**
 * Pure: folds `events` (all of one run) into the current run and step states with reduceRunState /
 * reduceStepState, exactly as the reference projection would, so the rows written equal the projection.
 */
export function projectWrite(
  run: RunState | null,
  steps: Map<string, StepState>,
  events: readonly Event[],
): ProjectedWrite {
  const after = foldRun(run, steps, events);
  return projectFolded(run, after.run, after.steps, events);
}

/**
 * The rows of a write whose events are already folded: `before` is the run as the write found it, `run` and `steps`
 * the states after `events` (foldRun, foldWithFollowUp). Equal to projectWrite(before, stepsBefore, events).
 */
export function projectFolded(
  before: RunState | null,
  run: RunState | null,
  steps: ReadonlyMap<string, StepState>,
  events: readonly Event[],
): ProjectedWrite {
  let runChanged = false;
  const touched = new Map<string, StepState>();
  const workers = new Map<string, number>();
  let notify = false;
  for (const ev of events) {
    if (ev.category === "workflow") {
      runChanged = true;
      if (ev.type === "RunSubmitted" || ev.type === "WorkflowRetryStarted") notify = true;
      continue;
    }
    if (!touched.has(ev.stepId)) touched.set(ev.stepId, steps.get(ev.stepId)!);
    if (ev.type === "StepScheduled") notify = true;
    if (ev.type === "StepStarted" || ev.type === "StepHeartbeat")
      workers.set(ev.workerId, Math.max(workers.get(ev.workerId) ?? 0, ev.timestampUs));
  }
  return { run, runChanged, liveBefore: isLive(before), liveAfter: isLive(run), steps: touched, workers, notify };
}

/** The indexed columns of a run row, in the order of the upsert's parameters. */
export function runColumns(s: RunState): unknown[] {
  return [
    s.status,
    isLive(s),
    s.availableAtUs,
    s.priority,
    s.createdAtUs,
    s.idempotencyKey ?? null,
    s.tags,
    JSON.stringify(s),
  ];
}

/** Column arrays (one entry per step) of the steps upsert. */
export function stepColumnArrays(steps: Iterable<StepState>, runLive: boolean): unknown[][] {
  const cols: unknown[][] = [[], [], [], [], [], [], [], [], []];
  for (const s of steps) {
    const row = [
      s.stepId,
      s.status,
      runLive,
      s.availableAtUs ?? null,
      s.priority,
      s.attemptNumber,
      lastSeen(s),
      s.createdAtUs,
      JSON.stringify(s),
    ];
    row.forEach((v, i) => cols[i]!.push(v));
  }
  return cols;
}

/** A running step's last sign of life: its last heartbeat, else its start (what the stale guard compares). */
export function lastSeen(s: StepState): number | null {
  return s.lastHeartbeatUs ?? s.startTimeUs ?? null;
}

/** Column arrays of the events insert: event_id, step_id, type, timestamp_us, body. */
export function eventColumnArrays(events: readonly Event[]): unknown[][] {
  const cols: unknown[][] = [[], [], [], [], []];
  for (const e of events) {
    cols[0]!.push(e.eventId);
    cols[1]!.push(e.category === "step" ? e.stepId : null);
    cols[2]!.push(e.type);
    cols[3]!.push(e.timestampUs);
    cols[4]!.push(JSON.stringify(e));
  }
  return cols;
}

/** Column arrays of the analytics figures of the events (migrations 0003, 0004): duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason. */
export function eventFigureArrays(events: readonly Event[]): unknown[][] {
  return [
    events.map((e) => ("durationUs" in e && typeof e.durationUs === "number" ? e.durationUs : null)),
    events.map((e) => (e.type === "StepFailed" ? e.terminal : null)),
    events.map((e) => (e.type === "StepCompleted" || e.type === "StepSkipped") && e.copiedFromRunId !== undefined),
    events.map((e) => (e.category === "step" ? e.attemptNumber : null)),
    events.map((e) => (e.type === "StepScheduled" ? e.availableAtUs : null)),
    events.map((e) =>
      e.type === "StepStarted" || e.type === "StepHeartbeat"
        ? e.workerId
        : e.type === "StepReclaimed"
          ? e.originalWorkerId
          : null,
    ),
    events.map((e) => (e.type === "StepScheduled" ? e.reason : e.type === "StepFailed" ? e.failureReason : null)),
  ];
}

/** Column array of worker_concurrency (migration 0005): StepStarted/StepHeartbeat.workerConcurrency. */
export function eventConcurrencyArray(events: readonly Event[]): Array<number | null> {
  return events.map((e) =>
    (e.type === "StepStarted" || e.type === "StepHeartbeat") && e.workerConcurrency !== undefined
      ? e.workerConcurrency
      : null,
  );
}
