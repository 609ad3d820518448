import type { Slots } from "./slots.js";

/**
 * Calls `onSignal` on SIGINT / SIGTERM (the second signal is passed with `urgent: true`, meaning "release now").
 * Returns a function that removes the handlers.
 */
export function onShutdownSignals(onSignal: (signal: NodeJS.Signals, urgent: boolean) => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    onSignal(signal, count > 1);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

/**
 * Graceful drain, after the loop stopped claiming: running steps get `graceMs` to finish; the rest are released
 * (`release()` aborts them with reason `shutdown`, and each records a non-terminal failure plus an immediate
 * reschedule in one atomic write, so another worker claims it at once, without waiting for the stale threshold).
 * `urgent` resolves early to release at once (a second Ctrl-C).
 */
export async function drainSlots(
  slots: Slots,
  graceMs: number,
  release: () => void,
  urgent: Promise<void>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), graceMs);
  });
  const outcome = await Promise.race([
    slots.idle().then(() => "idle" as const),
    deadline,
    urgent.then(() => "timeout" as const),
  ]);
  clearTimeout(timer);
  if (outcome !== "idle") release();
  await slots.idle();
}
