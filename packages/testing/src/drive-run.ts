import {
  HELD_AVAILABLE_AT_US,
  isTerminalRunStatus,
  type Backend,
  type RunState,
  type StepState,
} from "@cairn/backend-interface";
import type { TestClock } from "./test-clock.js";
import { RunStuckError } from "./testing-errors.js";

/** What driveRun needs of the environment. */
export interface DriveOptions {
  backend: Backend;
  clock: TestClock;
  runId: string;
  /** The id of the worker running now (a crashed one's running steps are orphans). */
  liveWorkerId: () => string;
  staleMs: number;
  /**
   * Real ms a running step may go without any new event before the clock moves to its timeout (without one, the run
   * is stuck).
   */
  stallMs: number;
  /** Declared timeouts of steps, by `slug\0stepId`. */
  stepTimeoutMs: (workflowSlug: string, stepId: string) => number | undefined;
}

/** Rounds a ready step may wait to be claimed before the clock moves to the worker's next timer (its poll). */
const READY_ROUNDS = 3;

/**
 * Waits for the run to end, moving the clock over the gaps in which nothing runs: to the next retry, the delayed
 * start, the stale threshold of a crashed worker's step or the run's deadline, so back-off and schedules cost no
 * real time. While a step of the live worker runs, the clock stands (its own time is real), unless it runs longer
 * than `stallMs` without a new event and has a timeout: then the clock moves to its timeout.
 */
export async function driveRun(o: DriveOptions): Promise<RunState> {
  let readyRounds = 0;
  let lastEvents = -1;
  let stalledSince = performance.now();
  for (;;) {
    const run = await o.backend.getRun(o.runId);
    if (!run) throw new RunStuckError(o.runId, "no such run.");
    if (isTerminalRunStatus(run.status)) return run;
    const steps = await o.backend.loadRun(run.workflowSlug, run.runId);
    const events = (await o.backend.loadEvents(run.workflowSlug, run.runId)).length;
    if (events !== lastEvents) {
      lastEvents = events;
      stalledSince = performance.now();
      readyRounds = 0;
    }
    const now = o.clock.nowUs();
    const live = o.liveWorkerId();
    const busy = steps.filter((s) => s.status === "running" && s.claimedBy === live);
    if (busy.length) {
      if (performance.now() - stalledSince >= o.stallMs) {
        const due = timeoutsOf(busy, o);
        if (due === undefined)
          throw new RunStuckError(
            o.runId,
            `step ${busy.map((s) => s.stepId).join(", ")} ran ${o.stallMs} ms of real time without news and has no timeout to move the clock to; raise stallMs if it waits on real I/O.`,
          );
        o.clock.setUs(Math.max(now, due));
        stalledSince = performance.now();
      }
      await pause();
      continue;
    }
    const { ready, dues } = pendingWork(run, steps, now, o.staleMs);
    if (await liveWorkerBusy(o.backend, live)) {
      // Another run's step is running: moving the clock now could time it out; its own driver moves it if it must.
    } else if (ready) {
      if (++readyRounds > READY_ROUNDS) {
        o.clock.advanceToNextTimer();
        readyRounds = 0;
      }
    } else if (dues.length) {
      o.clock.setUs(Math.min(...dues));
    } else {
      throw new RunStuckError(
        o.runId,
        `it is ${run.status} with no step running, ready or due (steps: ${steps.map((s) => `${s.stepId} ${s.status}`).join(", ") || "none"}).`,
      );
    }
    await pause();
  }
}

/** Whether something can happen now (a ready step, an available run, a reclaimable orphan), else when next (µs). */
function pendingWork(
  run: RunState,
  steps: readonly StepState[],
  now: number,
  staleMs: number,
): { ready: boolean; dues: number[] } {
  const dues: number[] = [];
  let ready = false;
  const at = (us: number) => (us > now ? dues.push(us) : (ready = true));
  if (run.status === "pending") at(run.availableAtUs);
  for (const s of steps) {
    // A step held by a pause, or waiting for a signal with no timeout, has no time of its own to move the clock to.
    if (s.status === "scheduled" && (s.availableAtUs ?? 0) < HELD_AVAILABLE_AT_US) at(s.availableAtUs ?? 0);
    else if (s.status === "running") at((s.lastHeartbeatUs ?? s.startTimeUs ?? now) + staleMs * 1000 + 1);
  }
  if (run.status === "running" && run.timeoutUs && run.startedAtUs) at(run.startedAtUs + run.timeoutUs + 1);
  return { ready, dues };
}

/** True when the live worker runs a step of any run (several runs may be driven at once). */
async function liveWorkerBusy(backend: Backend, live: string): Promise<boolean> {
  for (const run of await backend.listRuns({ status: ["running"] })) {
    if (
      (await backend.loadRun(run.workflowSlug, run.runId)).some((s) => s.status === "running" && s.claimedBy === live)
    )
      return true;
  }
  return false;
}

/** The earliest instant a busy step's timeout fires (µs), if any has one. */
function timeoutsOf(busy: readonly StepState[], o: DriveOptions): number | undefined {
  const dues = busy.flatMap((s) => {
    const ms = o.stepTimeoutMs(s.workflowSlug, s.stepId);
    return ms === undefined || s.startTimeUs === undefined ? [] : [s.startTimeUs + ms * 1000];
  });
  return dues.length ? Math.min(...dues) : undefined;
}

/** A real millisecond: lets the worker's writes and wake-ups happen. */
function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}
