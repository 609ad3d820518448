/**
 * A wake-up latch: `wait` resolves on `wake()`, after `ms`, or when `signal` aborts. A wake with nobody waiting is
 * kept for the next wait, so a notification between two reads is not lost. (The worker has its own copy in slots.ts;
 * this one stays private to the client rather than become public API.)
 */
export class Wakeup {
  private pending = false;
  private resolver: (() => void) | undefined;

  /** Wakes the current wait, or the next one. */
  wake(): void {
    if (this.resolver) {
      const r = this.resolver;
      this.resolver = undefined;
      r();
    } else this.pending = true;
  }

  /** Resolves on a wake, after `ms`, or when `signal` aborts. */
  async wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending || signal?.aborted) {
      this.pending = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.resolver = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.resolver = done;
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
