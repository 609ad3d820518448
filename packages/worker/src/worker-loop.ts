import type { ClaimedStep } from "./execute-step.js";
import type { Slots, Wakeup } from "./slots.js";
import type { WorkerEvents } from "./worker-events.js";

/** What a pass over pending runs did: how many runs it started, and whether there may be more (a full page). */
export interface PendingPass {
  started: number;
  more: boolean;
}

/** What the loop drives; each function is its own module's concern (claims, runs, execution, drain check). */
export interface LoopDeps {
  slots: Slots;
  wakeup: Wakeup;
  events: WorkerEvents;
  pollMs: number;
  /** Stops claiming when aborted. */
  signal: AbortSignal;
  /** Starts pending runs; calls `onStarted` after each run it started (its first steps are then scheduled). */
  startPendingRuns: (onStarted: () => void) => Promise<PendingPass>;
  claim: (limit: number) => Promise<Array<Omit<ClaimedStep, "slot">>>;
  execute: (step: ClaimedStep) => Promise<void>;
  /** With `--once`: true when there is nothing left to do, so the loop ends. */
  drained?: () => Promise<boolean>;
}

/**
 * The worker loop. Each turn claims up to the free capacity at once (a wake-up goes straight to the claim) and starts
 * each claimed step without awaiting it, then waits for a free slot, a wake-up (notification, finished step, started
 * run) or the poll interval. Pending runs are looked for in the background, never in the claim path: at start, on a
 * notification (when idle, or when the claim left slots free), at most once per poll interval otherwise, and again at
 * once while listings come back full.
 * It never dies of an error.
 */
export async function workerLoop(d: LoopDeps): Promise<void> {
  let pendingDue = true;
  let lastPendingMs = -Infinity;
  let starter: Promise<void> | undefined;
  const startPending = (): void => {
    pendingDue = false;
    lastPendingMs = performance.now();
    starter = d.startPendingRuns(() => d.wakeup.wake())
      .then((pass) => { if (pass.more) pendingDue = true; })
      .catch((err: unknown) => d.events.emit({ type: "error", where: "start pending runs", error: err }))
      .finally(() => { starter = undefined; d.wakeup.wake(); });
  };
  while (!d.signal.aborted) {
    try {
      // A notification may be a new run (or another worker's step): an idle worker looks for pending runs alongside the
      // claim; a busy one only when the claim leaves slots free (its own writes notify it too).
      const notified = d.wakeup.takeNotified();
      if ((notified && d.slots.size() === 0) || performance.now() - lastPendingMs >= d.pollMs) pendingDue = true;
      if (pendingDue && !starter) startPending();
      const free = d.slots.free();
      const claimed = free > 0 ? await d.claim(free) : [];
      if (notified && claimed.length < free && !starter) startPending();
      for (const c of claimed) {
        const step = { ...c, slot: d.slots.nextIndex() };
        d.events.emit({ type: "step:claimed", workflowSlug: c.workflowSlug, runId: c.runId, stepId: c.stepId, attempt: c.attempt, slot: step.slot });
        d.slots.start(step.slot, () => d.execute(step));
      }
      if (d.drained && d.slots.size() === 0 && claimed.length === 0 && !starter && !pendingDue) {
        if (await d.drained()) return;
        pendingDue = true; // something is still pending or running somewhere: look again next turn
      }
    } catch (err) {
      d.events.emit({ type: "error", where: "worker loop", error: err });
    }
    await d.wakeup.wait(d.pollMs, d.signal);
    // Let the steps that finished in the same event-loop turn free their slots too, so one claim serves them all.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await starter;
}
