import { isCairnError, type Backend } from "@cairn/backend-interface";
import { openBackend } from "../backend-url.js";

/** One failed attempt to reach the backend, reported before waiting `delayMs` for the next one. */
export interface BackendWait {
  attempt: number;
  delayMs: number;
  error: unknown;
}

/** The back-off between attempts: 1 s, doubling, at most 30 s, with ±20% jitter so restarted workers spread out. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Opens the backend `url` names, retrying with back-off while it is unreachable (a retryable
 * BACKEND_UNAVAILABLE: server down or restarting, database locked). Any other error (bad URL, missing
 * database, schema too new) is thrown at once. Returns null when `signal` aborts first.
 */
export async function openBackendWhenReachable(
  url: string,
  o: { cwd: string; signal: AbortSignal; onWait: (w: BackendWait) => void },
): Promise<Backend | null> {
  for (let attempt = 1; ; attempt++) {
    if (o.signal.aborted) return null;
    try {
      const backend = await openBackend(url, { cwd: o.cwd });
      if (!o.signal.aborted) return backend;
      await backend.close().catch(() => {}); // stopped while this attempt was connecting
      return null;
    } catch (err) {
      if (!isCairnError(err, "BACKEND_UNAVAILABLE")) throw err;
      const delayMs = backoffMs(attempt);
      o.onWait({ attempt, delayMs, error: err });
      if (!(await sleep(delayMs, o.signal))) return null;
    }
  }
}

/** Waits `ms`; false when `signal` aborted the wait. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
