/**
 * Where the worker's timers come from: the poll wait, heartbeats, the maintenance interval, presence writes, step
 * timeouts, the due-run throttle and the back-off between retried writes. Real time by default; `@cairn/testing`
 * injects a clock that tests move by hand, so all of them fire without waiting. Grace periods that bound how long
 * the process waits for code ignoring its abort signal (abort grace, shutdown grace) stay on real time: under a
 * stopped clock they would never end.
 */
export interface WorkerTimers {
  /** Milliseconds on a monotonic scale; only differences are used. */
  nowMs(): number;
  /** Calls `fn` once after `ms`; returns a function that cancels it. `unref`: do not keep the process alive for it. */
  setTimeout(fn: () => void, ms: number, options?: { unref?: boolean }): () => void;
}

/** Real time: `performance.now()` and the global timers. */
export const realTimers: WorkerTimers = {
  nowMs: () => performance.now(),
  setTimeout(fn, ms, options) {
    const timer = setTimeout(fn, ms);
    if (options?.unref) timer.unref?.();
    return () => clearTimeout(timer);
  },
};

/** Calls `fn` every `ms` on `timers` until the returned function is called (built on one-shot timers). */
export function every(timers: WorkerTimers, ms: number, fn: () => void, options?: { unref?: boolean }): () => void {
  let cancel: () => void = () => {};
  let stopped = false;
  const arm = (): void => {
    cancel = timers.setTimeout(
      () => {
        if (stopped) return;
        arm(); // re-armed first, so a throwing fn does not end the interval
        fn();
      },
      ms,
      options,
    );
  };
  arm();
  return () => {
    stopped = true;
    cancel();
  };
}

/** Resolves after `ms` on `timers`. */
export function sleep(timers: WorkerTimers, ms: number): Promise<void> {
  return new Promise((resolve) => void timers.setTimeout(resolve, ms));
}
