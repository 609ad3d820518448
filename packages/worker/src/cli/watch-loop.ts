import type { Backend } from "@cairn/backend-interface";
import { Wakeup } from "../slots.js";

/** Moves the cursor home and clears the screen: a `--watch` view on a terminal redraws from the top. */
export const CLEAR = "\x1b[H\x1b[2J";

/**
 * Calls `tick` until it says it is done, `signal` aborts or `gone()` says nobody reads the output any more: again on
 * each backend notification (LISTEN/NOTIFY, SQLite data_version, the fs doorbell), else every `pollMs`. What
 * `--watch`, `--follow` and `--wait` share.
 */
export async function watchLoop(
  backend: Backend,
  o: { pollMs: number; signal: AbortSignal; gone?: (() => boolean) | undefined },
  tick: () => Promise<boolean>,
): Promise<void> {
  const wakeup = new Wakeup();
  const unsubscribe = backend.capabilities.notifications ? backend.subscribe(() => wakeup.wake()) : () => {};
  try {
    while (!o.signal.aborted && !o.gone?.()) {
      if (await tick()) return;
      await wakeup.wait(o.pollMs, o.signal);
    }
  } finally {
    unsubscribe();
  }
}
