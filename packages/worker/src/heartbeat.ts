import { isCairnError, type Backend, type StepRef } from "@cairn/backend-interface";
import type { AbortReason } from "./worker-events.js";
import { every, realTimers, type WorkerTimers } from "./worker-timers.js";

/** Options of startHeartbeat. */
export interface HeartbeatOptions {
  backend: Backend;
  ref: StepRef;
  workerId: string;
  attempt: number;
  intervalMs: number;
  slot?: number;
  concurrency?: number;
  /** Called before each beat (e.g. to flush buffered log lines). */
  beforeBeat?: () => Promise<void>;
  /** The attempt must stop: the run ended (cancel) or another worker owns the step. Called once. */
  onLost: (reason: AbortReason, error: unknown) => void;
  /** A beat failed for another reason (storage busy, network); the next beat tries again. */
  onError: (error: unknown) => void;
  /** Timer source (default real time). */
  timers?: WorkerTimers;
}

/**
 * Heartbeats a running attempt every `intervalMs` until stopped. A heartbeat refused with RUN_TERMINAL (the run was
 * cancelled or ended) or STALE_ATTEMPT (the step was reclaimed) calls `onLost` and stops beating. Returns `stop`.
 */
export function startHeartbeat(o: HeartbeatOptions): () => void {
  let stopped = false;
  let inFlight = false;
  const beat = async (): Promise<void> => {
    if (stopped || inFlight) return;
    inFlight = true;
    try {
      await o.beforeBeat?.().catch(o.onError);
      if (stopped) return;
      await o.backend.saveStepHeartbeat(o.ref.workflowSlug, o.ref.runId, o.ref.stepId, o.workerId, o.attempt, {
        ...(o.slot === undefined ? {} : { slotIndex: o.slot }),
        ...(o.concurrency === undefined ? {} : { workerConcurrency: o.concurrency }),
        resourceSnapshot: { memoryBytes: process.memoryUsage.rss(), cpuTimeUs: cpuTimeUs() },
      });
    } catch (err) {
      if (stopped) return;
      if (isCairnError(err, "RUN_TERMINAL")) {
        stop();
        o.onLost("cancelled", err);
      } else if (isCairnError(err, "STALE_ATTEMPT")) {
        stop();
        o.onLost("lost-lease", err);
      } else o.onError(err);
    } finally {
      inFlight = false;
    }
  };
  const cancel = every(o.timers ?? realTimers, o.intervalMs, () => void beat(), { unref: true });
  const stop = (): void => {
    stopped = true;
    cancel();
  };
  return stop;
}

/** CPU time (user + system) this process has used, in µs. */
export function cpuTimeUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
