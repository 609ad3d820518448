/** A wake-up latch: `wait` resolves on `wake()`, after `ms`, or when `signal` aborts. A wake with nobody waiting is kept for the next wait. */
export class Wakeup {
  private pending = false;
  private notified = false;
  private resolver: (() => void) | undefined;

  /** A wake-up from outside (a backend notification: new runs or steps may be ready). */
  notify(): void {
    this.notified = true;
    this.wake();
  }

  /** True once after notify() was called. */
  takeNotified(): boolean {
    const n = this.notified;
    this.notified = false;
    return n;
  }

  wake(): void {
    if (this.resolver) { const r = this.resolver; this.resolver = undefined; r(); }
    else this.pending = true;
  }

  async wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending || signal?.aborted) { this.pending = false; return; }
    await new Promise<void>((resolve) => {
      const done = (): void => { clearTimeout(timer); signal?.removeEventListener("abort", done); this.resolver = undefined; resolve(); };
      const timer = setTimeout(done, ms);
      this.resolver = done;
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/** A worker's N concurrency slots: each running task holds one slot index until it settles. */
export class Slots {
  private readonly running = new Map<number, Promise<void>>();
  constructor(readonly capacity: number, private readonly onFreed: () => void) {}

  /** Free slots. */
  free(): number {
    return this.capacity - this.running.size;
  }

  /** Tasks running. */
  size(): number {
    return this.running.size;
  }

  /** The lowest free slot index; call only when free() > 0. */
  nextIndex(): number {
    for (let i = 0; i < this.capacity; i++) if (!this.running.has(i)) return i;
    throw new Error("no free slot");
  }

  /** Runs `task` in slot `index` without awaiting it; the slot frees (and onFreed fires) when it settles. */
  start(index: number, task: () => Promise<void>): void {
    const p = task().catch(() => {}).finally(() => { this.running.delete(index); this.onFreed(); });
    this.running.set(index, p);
  }

  /** Resolves when every running task has settled. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all(this.running.values());
  }
}
