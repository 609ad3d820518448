import type { Event, EventOf } from "../events.js";
import { InvalidArgumentError } from "../errors.js";
import { rateOf } from "./percentiles.js";
import { attemptKey, compareStrings, ofType, selectEvents, type AnalyticsOptions } from "./window.js";

/** A worker is active when its last StepStarted/StepHeartbeat is at most this old (30 s). */
export const DEFAULT_WORKER_STALE_THRESHOLD_US = 30_000_000;

/** One worker's stability over the selection. Completions and failures are attributed to the worker of the attempt (see computeWorkerStability). */
export interface WorkerStabilityEntry {
  workerId: string;
  stepsStarted: number;
  stepsCompleted: number;
  /** StepFailed of its attempts, terminal or not, any reason. */
  stepsFailed: number;
  /** Of which failureReason `worker-crash`. */
  crashFailures: number;
  /** StepReclaimed with `originalWorkerId` = this worker. */
  reclaimedFrom: number;
  heartbeats: number;
  /** Heartbeats for an attempt after that attempt was reclaimed (a zombie still working). */
  zombieHeartbeats: number;
  /** rateOf(reclaimedFrom, stepsStarted). */
  reclaimRate: number;
  /** Latest StepStarted/StepHeartbeat of the worker; null when it only appears as a reclaimed-from worker. */
  lastSeenUs: number | null;
}

/** Worker crashes, reclamations and zombie heartbeats; `workers` sorted by workerId asc. */
export interface WorkerStability {
  workers: WorkerStabilityEntry[];
  totals: { workers: number; stepsStarted: number; reclaims: number; crashFailures: number; zombieHeartbeats: number };
}

/** Options of activeWorkers. */
export interface ActiveWorkersOptions {
  /** Default 30 s. */
  staleThresholdUs?: number;
  /** Also list workers not seen within the threshold (still only those seen in the last 24 h). */
  includeInactive?: boolean;
}

/** An attempt a worker is running now. */
export interface WorkerStep {
  workflowSlug: string;
  runId: string;
  stepId: string;
  attemptNumber: number;
  startedAtUs: number;
}

/** A worker seen in the last 24 h. */
export interface WorkerInfo {
  workerId: string;
  firstSeenUs: number;
  lastSeenUs: number;
  /** `nowUs - lastSeenUs <= staleThresholdUs`. */
  isActive: boolean;
  /** workerConcurrency of its latest event carrying one (timestampUs desc, eventId desc); null when none did. */
  concurrency: number | null;
  stepsStarted: number;
  /** currentSteps.length. */
  runningSteps: number;
  /** Its started attempts not yet ended; startedAtUs asc, runId asc, stepId asc. */
  currentSteps: WorkerStep[];
}

const earliestFirst = (a: Event, b: Event): number =>
  a.timestampUs - b.timestampUs || compareStrings(a.eventId, b.eventId);

/** The worker of each attempt: workerId of the attempt's earliest StepStarted in the selection (timestampUs asc, eventId asc). */
function attemptWorkers(selected: readonly Event[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of ofType(selected, "StepStarted").sort(earliestFirst))
    if (!out.has(attemptKey(s))) out.set(attemptKey(s), s.workerId);
  return out;
}

/**
 * Per-worker stability over the selection. Workers: every StepStarted/StepHeartbeat workerId and StepReclaimed
 * originalWorkerId. StepCompleted/StepFailed carry no workerId and count for the worker of their attempt (see
 * attemptWorkers); an attempt whose StepStarted is outside the selection is attributed to nobody.
 */
export function computeWorkerStability(
  events: readonly Event[],
  options: AnalyticsOptions,
  nowUs: number,
): WorkerStability {
  const selected = selectEvents(events, options, nowUs);
  const owner = attemptWorkers(selected);
  const started = ofType(selected, "StepStarted");
  const beats = ofType(selected, "StepHeartbeat");
  const reclaims = ofType(selected, "StepReclaimed");
  const failed = ofType(selected, "StepFailed");
  const completed = ofType(selected, "StepCompleted");
  const reclaimedAt = new Map<string, number>();
  for (const r of reclaims)
    reclaimedAt.set(attemptKey(r), Math.min(reclaimedAt.get(attemptKey(r)) ?? Infinity, r.timestampUs));
  const isZombie = (h: EventOf<"StepHeartbeat">) => h.timestampUs > (reclaimedAt.get(attemptKey(h)) ?? Infinity);
  const ids = new Set([
    ...started.map((e) => e.workerId),
    ...beats.map((e) => e.workerId),
    ...reclaims.map((e) => e.originalWorkerId),
  ]);
  const workers = [...ids].sort(compareStrings).map((workerId): WorkerStabilityEntry => {
    const mine = <T extends { runId: string; stepId: string; attemptNumber: number }>(list: T[]) =>
      list.filter((e) => owner.get(attemptKey(e)) === workerId);
    const seen = [...started, ...beats].filter((e) => e.workerId === workerId).map((e) => e.timestampUs);
    const stepsStarted = started.filter((e) => e.workerId === workerId).length;
    const reclaimedFrom = reclaims.filter((e) => e.originalWorkerId === workerId).length;
    const myFailures = mine(failed);
    return {
      workerId,
      stepsStarted,
      stepsCompleted: mine(completed).length,
      stepsFailed: myFailures.length,
      crashFailures: myFailures.filter((e) => e.failureReason === "worker-crash").length,
      reclaimedFrom,
      heartbeats: beats.filter((e) => e.workerId === workerId).length,
      zombieHeartbeats: beats.filter((e) => e.workerId === workerId && isZombie(e)).length,
      reclaimRate: rateOf(reclaimedFrom, stepsStarted),
      lastSeenUs: seen.length ? seen.reduce((a, b) => Math.max(a, b)) : null,
    };
  });
  return {
    workers,
    totals: {
      workers: workers.length,
      stepsStarted: started.length,
      reclaims: reclaims.length,
      crashFailures: failed.filter((e) => e.failureReason === "worker-crash").length,
      zombieHeartbeats: beats.filter(isZombie).length,
    },
  };
}

const ATTEMPT_END = new Set(["StepCompleted", "StepFailed", "StepSkipped", "StepReclaimed"]);
const RUN_END = new Set(["WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled"]);

/**
 * Workers seen in the last 24 h (window `[nowUs - 24 h, nowUs]`, all workflows) through StepStarted/StepHeartbeat.
 * An attempt is current when the worker started it (StepStarted in the window) and the window holds no
 * StepCompleted/StepFailed/StepSkipped/StepReclaimed of the same (runId, stepId, attemptNumber) and no
 * WorkflowCompleted/WorkflowFailed/WorkflowCancelled of its run. Sorted by workerId asc.
 */
export function computeActiveWorkers(
  events: readonly Event[],
  options: ActiveWorkersOptions,
  nowUs: number,
): WorkerInfo[] {
  const threshold = options.staleThresholdUs ?? DEFAULT_WORKER_STALE_THRESHOLD_US;
  if (!Number.isFinite(threshold) || threshold < 0)
    throw new InvalidArgumentError(`staleThresholdUs must be a non-negative number of µs, got ${threshold}.`);
  const selected = selectEvents(events, {}, nowUs);
  const ended = new Set(
    selected.filter((e) => ATTEMPT_END.has(e.type)).map((e) => attemptKey(e as EventOf<"StepCompleted">)),
  );
  const runsEnded = new Set(selected.filter((e) => RUN_END.has(e.type)).map((e) => e.runId));
  const started = ofType(selected, "StepStarted");
  const signs = [...started, ...ofType(selected, "StepHeartbeat")];
  const ids = [...new Set(signs.map((e) => e.workerId))].sort(compareStrings);
  const infos = ids.map((workerId): WorkerInfo => {
    const mine = signs.filter((e) => e.workerId === workerId).sort(earliestFirst);
    const withConcurrency = mine.filter((e) => e.workerConcurrency !== undefined);
    const currentSteps = started
      .filter((s) => s.workerId === workerId && !ended.has(attemptKey(s)) && !runsEnded.has(s.runId))
      .map((s) => ({
        workflowSlug: s.workflowSlug,
        runId: s.runId,
        stepId: s.stepId,
        attemptNumber: s.attemptNumber,
        startedAtUs: s.timestampUs,
      }))
      .sort(
        (a, b) =>
          a.startedAtUs - b.startedAtUs || compareStrings(a.runId, b.runId) || compareStrings(a.stepId, b.stepId),
      );
    const lastSeenUs = mine[mine.length - 1]?.timestampUs ?? 0;
    return {
      workerId,
      firstSeenUs: mine[0]?.timestampUs ?? 0,
      lastSeenUs,
      isActive: nowUs - lastSeenUs <= threshold,
      concurrency: withConcurrency[withConcurrency.length - 1]?.workerConcurrency ?? null,
      stepsStarted: mine.filter((e) => e.type === "StepStarted").length,
      runningSteps: currentSteps.length,
      currentSteps,
    };
  });
  return options.includeInactive ? infos : infos.filter((w) => w.isActive);
}

/** One worker's WorkerInfo (active or not, default threshold), or null when it was not seen in the last 24 h. */
export function computeWorkerById(events: readonly Event[], workerId: string, nowUs: number): WorkerInfo | null {
  return computeActiveWorkers(events, { includeInactive: true }, nowUs).find((w) => w.workerId === workerId) ?? null;
}
