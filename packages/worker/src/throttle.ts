/** A call run at most once per interval: requests in between are folded into one run at the interval's end. */
export interface Throttled {
  /** Runs the call now if the interval since the last run has passed, else once when it has. */
  request(): void;
  /** Drops a pending run (no call happens after this until the next request). */
  cancel(): void;
}

/** Throttles `fn` to one call per `intervalMs`; `now` is injected so tests control time. */
export function throttled(intervalMs: number, fn: () => unknown, now: () => number = Date.now): Throttled {
  let last = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const run = (): void => {
    timer = undefined;
    last = now();
    fn();
  };
  return {
    request() {
      if (timer) return;
      const wait = last + intervalMs - now();
      if (wait <= 0) return run();
      timer = setTimeout(run, wait);
      timer.unref();
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
