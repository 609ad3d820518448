import type { RetryPolicy } from "@cairn/backend-interface";
import type { RetryOptions } from "./define-step.js";

/** The policy a step gets when it declares none: 3 attempts, exponential back-off from 1 s up to 60 s, with jitter. */
export const DEFAULT_RETRY: Required<RetryOptions> = {
  attempts: 3,
  backoff: "exponential",
  delayMs: 1000,
  maxDelayMs: 60_000,
  jitter: true,
};

/** Normalises an author's retry options into the registered policy (`maxRetries` = attempts - 1). */
export function toRetryPolicy(options: RetryOptions | undefined): RetryPolicy {
  const o = { ...DEFAULT_RETRY, ...options };
  const attempts = Math.max(1, Math.floor(o.attempts));
  return {
    maxRetries: attempts - 1,
    backoff: o.backoff,
    initialDelayMs: Math.max(0, Math.floor(o.delayMs)),
    maxDelayMs: Math.max(0, Math.floor(o.maxDelayMs)),
    jitter: o.jitter,
  };
}

/** Problems with retry options, as messages (empty when valid). */
export function retryOptionProblems(options: RetryOptions | undefined): string[] {
  if (options === undefined) return [];
  const out: string[] = [];
  if (options.attempts !== undefined && (!Number.isInteger(options.attempts) || options.attempts < 1))
    out.push("retry.attempts must be an integer ≥ 1");
  if (options.backoff !== undefined && options.backoff !== "fixed" && options.backoff !== "exponential")
    out.push('retry.backoff must be "fixed" or "exponential"');
  for (const k of ["delayMs", "maxDelayMs"] as const) {
    const v = options[k];
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) out.push(`retry.${k} must be a number ≥ 0`);
  }
  return out;
}

/**
 * The delay before the retry that follows failed attempt `failedAttempt` (1-based), in ms.
 * `random` is injected so tests control jitter; jitter keeps 50–100% of the computed delay.
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const base =
    policy.backoff === "fixed" ? policy.initialDelayMs : policy.initialDelayMs * 2 ** Math.max(0, failedAttempt - 1);
  const capped = Math.min(base, policy.maxDelayMs);
  return Math.round(policy.jitter ? capped * (0.5 + random() / 2) : capped);
}

/** True when a step that has failed `failures` times (counting the current one) may run again. */
export function shouldRetry(policy: RetryPolicy, failures: number): boolean {
  return failures <= policy.maxRetries;
}
