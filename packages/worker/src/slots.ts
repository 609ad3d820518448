import { realTimers, type WorkerTimers } from "./worker-timers.js";

/** A wake-up latch: `wait` resolves on `wake()`, after `ms`, or when `signal` aborts. A wake with nobody waiting is kept for the next wait. */
export class Wakeup {
  private pending = false;
  private resolver: (() => void) | undefined;
  constructor(private readonly timers: WorkerTimers = realTimers) {}

  wake(): void {
    if (this.resolver) {
      const r = this.resolver;
      this.resolver = undefined;
      r();
    } else this.pending = true;
  }

  async wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending || signal?.aborted) {
      this.pending = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        cancel();
        signal?.removeEventListener("abort", done);
        this.resolver = undefined;
        resolve();
      };
      const cancel = this.timers.setTimeout(done, ms);
      this.resolver = done;
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/**
 * A worker's N concurrency slots: each running task holds one slot index until it settles or releases it early (its
 * step function ended and only the recording of its result remains). Released tasks still settling are the tail:
 * at most N of them, so the worker runs N step functions at once and has at most N results being written behind them,
 * and a claim can go out while the previous batch of results is being written.
 */
export class Slots {
  private readonly running = new Map<number, Promise<void>>();
  private readonly tail = new Set<Promise<void>>();
  constructor(
    readonly capacity: number,
    private readonly onFreed: () => void,
  ) {}

  /** Free slots: fewer while the tail of results being written is full. */
  free(): number {
    return Math.max(
      0,
      Math.min(this.capacity - this.running.size, 2 * this.capacity - this.running.size - this.tail.size),
    );
  }

  /** Tasks running (holding a slot). */
  size(): number {
    return this.running.size;
  }

  /** The lowest free slot index; call only when free() > 0. */
  nextIndex(): number {
    for (let i = 0; i < this.capacity; i++) if (!this.running.has(i)) return i;
    throw new Error("no free slot");
  }

  /** Runs `task` in slot `index` without awaiting it; the slot frees (and onFreed fires) when the task calls `release` or settles. */
  start(index: number, task: (release: () => void) => Promise<void>): void {
    let held = true;
    let settled: Promise<void> | undefined;
    const release = (): void => {
      if (!held) return;
      held = false;
      this.running.delete(index);
      if (settled) this.tail.add(settled);
      this.onFreed();
    };
    settled = task(release)
      .catch(() => {})
      .finally(() => {
        if (held) {
          held = false;
          this.running.delete(index);
        } else if (settled) this.tail.delete(settled);
        this.onFreed();
      });
    if (held) this.running.set(index, settled);
    else this.tail.add(settled);
  }

  /** Resolves when every task has settled, the tail included. */
  async idle(): Promise<void> {
    while (this.running.size || this.tail.size) await Promise.all([...this.running.values(), ...this.tail]);
  }

  /** Resolves when no task holds a slot (step functions ended; results may still be being written). */
  async executed(): Promise<void> {
    while (this.running.size) await Promise.all(this.running.values());
  }
}
