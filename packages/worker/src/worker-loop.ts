import type { ClaimedStep } from "./execute-step.js";
import type { Slots, Wakeup } from "./slots.js";
import type { WorkerEvents } from "./worker-events.js";

/** What the loop drives; each function is its own module's concern (claims, runs, execution, drain check). */
export interface LoopDeps {
  slots: Slots;
  wakeup: Wakeup;
  events: WorkerEvents;
  pollMs: number;
  /** Stops claiming when aborted. */
  signal: AbortSignal;
  startPendingRuns: () => Promise<unknown>;
  claim: (limit: number) => Promise<Array<Omit<ClaimedStep, "slot">>>;
  execute: (step: ClaimedStep) => Promise<void>;
  /** With `--once`: true when there is nothing left to do, so the loop ends. */
  drained?: () => Promise<boolean>;
}

/**
 * The worker loop: start pending runs, claim up to the free capacity, start each step without awaiting it, then wait
 * for a free slot, a wake-up (notification, finished step) or the poll interval. It never dies of an error.
 */
export async function workerLoop(d: LoopDeps): Promise<void> {
  while (!d.signal.aborted) {
    try {
      await d.startPendingRuns();
      const free = d.slots.free();
      const claimed = free > 0 ? await d.claim(free) : [];
      for (const c of claimed) {
        const step = { ...c, slot: d.slots.nextIndex() };
        d.events.emit({ type: "step:claimed", workflowSlug: c.workflowSlug, runId: c.runId, stepId: c.stepId, attempt: c.attempt, slot: step.slot });
        d.slots.start(step.slot, () => d.execute(step));
      }
      if (d.drained && d.slots.size() === 0 && claimed.length === 0 && (await d.drained())) return;
    } catch (err) {
      d.events.emit({ type: "error", where: "worker loop", error: err });
    }
    await d.wakeup.wait(d.pollMs, d.signal);
  }
}
