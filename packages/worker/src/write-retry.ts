import { CairnError } from "@cairn/backend-interface";
import { realTimers, sleep, type WorkerTimers } from "./worker-timers.js";

/** How long and how often an attempt's result is written again while the store is unreachable. */
export interface WriteRetryPolicy {
  /** Give up after this long (ms): past the stale threshold the step is someone else's anyway. */
  maxMs: number;
  /** First delay (ms), doubled after each failure up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Called before each wait, with the error and the attempt number. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Timer source of the back-off (default real time). */
  timers?: WorkerTimers;
}

/**
 * Runs `write` and, while it fails with a retryable error (the store is unreachable), runs it again with back-off
 * until it succeeds or `maxMs` has passed. Safe for fenced writes: one that already landed is refused as stale on a
 * retry, never applied twice.
 */
export async function retryWrite<T>(write: () => Promise<T>, policy: WriteRetryPolicy): Promise<T> {
  const timers = policy.timers ?? realTimers;
  const started = timers.nowMs();
  let delay = policy.initialDelayMs ?? 50;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!(err instanceof CairnError && err.retryable) || timers.nowMs() - started + delay > policy.maxMs) throw err;
      policy.onRetry?.(err, attempt, delay);
      await sleep(timers, delay);
      delay = Math.min(delay * 2, policy.maxDelayMs ?? 2000);
    }
  }
}

/** `backend` with every method call retried as retryWrite does (the same object otherwise). */
export function persistent<T extends object>(backend: T, policy: WriteRetryPolicy): T {
  return new Proxy(backend, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) =>
        retryWrite(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args), policy);
    },
  });
}
