import type { ClaimedStep } from "./execute-step.js";
import type { Slots, Wakeup } from "./slots.js";
import type { WorkerEvents } from "./worker-events.js";

/** What the loop drives; each function is its own module's concern (claims, execution, due runs, drain check). */
export interface LoopDeps {
  slots: Slots;
  wakeup: Wakeup;
  events: WorkerEvents;
  pollMs: number;
  /** Stops claiming when aborted. */
  signal: AbortSignal;
  claim: (limit: number) => Promise<Array<Omit<ClaimedStep, "slot">>>;
  /** Runs a claimed step; calls `release` once its function ended (its result may still be being written). */
  execute: (step: ClaimedStep, release: () => void) => Promise<void>;
  /** Starts runs that became available (delayed runs); called when idle, at most once per poll interval. */
  startDue: () => Promise<number>;
  /** With `--once`: true when there is nothing left to do, so the loop ends. */
  drained?: () => Promise<boolean>;
  /** Time for the due-run throttle (default performance.now). */
  nowMs?: () => number;
}

/**
 * The worker loop: claim up to the free capacity (each step with its inputs), start each claimed step without
 * awaiting it, then wait for a free slot, a wake-up or the poll interval. Runs are advanced by the store in the
 * writes that end steps, so there is nothing else to do but start runs that were submitted for later.
 * It never dies of an error.
 */
export async function workerLoop(d: LoopDeps): Promise<void> {
  let lastDueMs = -Infinity;
  const nowMs = d.nowMs ?? (() => performance.now());
  while (!d.signal.aborted) {
    try {
      const free = d.slots.free();
      const claimed = free > 0 ? await d.claim(free) : [];
      for (const c of claimed) {
        const step = { ...c, slot: d.slots.nextIndex() };
        d.events.emit({
          type: "step:claimed",
          workflowSlug: c.workflowSlug,
          runId: c.runId,
          stepId: c.stepId,
          attempt: c.attempt,
          slot: step.slot,
        });
        d.slots.start(step.slot, (release) => d.execute(step, release));
      }
      if (claimed.length === 0 && nowMs() - lastDueMs >= d.pollMs) {
        lastDueMs = nowMs();
        if ((await d.startDue()) > 0) continue; // their first steps are ready now
        if (d.drained && d.slots.size() === 0 && (await d.drained())) return;
      }
    } catch (err) {
      d.events.emit({ type: "error", where: "worker loop", error: err });
    }
    await d.wakeup.wait(d.pollMs, d.signal);
    // Let the steps that finished in the same event-loop turn free their slots too, so one claim serves them all.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
