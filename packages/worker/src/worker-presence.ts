import { hostname } from "node:os";
import type { Backend, WorkerPresenceInput } from "@cairn/backend-interface";
import type { WorkerEvents } from "./worker-events.js";
import { every, realTimers, type WorkerTimers } from "./worker-timers.js";

/** Default interval of presence writes (ms). */
export const DEFAULT_PRESENCE_MS = 5000;

/** How long a stop waits for the store to take the final mark (ms): an unreachable store must not hold up shutdown. */
const STOP_WRITE_MS = 2000;

/** What startPresence needs. */
export interface PresenceOptions {
  backend: Backend;
  workerId: string;
  concurrency: number;
  /** Slugs of the workflows the worker runs. */
  workflows: string[];
  /** Interval of presence writes (ms, default DEFAULT_PRESENCE_MS). */
  intervalMs?: number;
  events: WorkerEvents;
  /** Timer source of the interval (default real time). */
  timers?: WorkerTimers;
}

/** A running presence writer. */
export interface Presence {
  /** Stops the interval and writes the final "stopped" mark (waiting at most 2 s); never throws (problems go to the worker's events). */
  stop(): Promise<void>;
}

/**
 * Keeps the worker's presence record fresh, independent of steps: one write at once, one per interval, and a final
 * "stopped" mark on stop, so an idle, healthy worker shows as active. Writes never overlap (a slow store skips a
 * beat rather than piling up); a failed write is reported as an `error` event and the next one tries again.
 */
export function startPresence(o: PresenceOptions): Presence {
  const base: WorkerPresenceInput = {
    workerId: o.workerId,
    host: hostname(),
    pid: process.pid,
    concurrency: o.concurrency,
    workflows: [...o.workflows],
    startedAtUs: o.backend.clock.nowUs(),
  };
  let inFlight: Promise<void> | null = null;
  let gaveUp = false;
  const write = (stopped: boolean): Promise<void> =>
    o.backend.recordWorkerPresence({ ...base, ...(stopped ? { stopped } : {}) }).then(
      () => undefined,
      (error: unknown) => {
        // An id the store cannot record (see assertWorkerId) fails the same way every time: say so once.
        if (
          (error as { code?: string })?.code === "INVALID_IDENTIFIER" ||
          (error as { code?: string })?.code === "INVALID_ARGUMENT"
        )
          gaveUp = true;
        o.events.emit({
          type: "error",
          where: stopped ? "recording the worker stopped" : "recording worker presence",
          error,
        });
      },
    );
  const beat = () => {
    if (inFlight || gaveUp) return;
    inFlight = write(false).finally(() => {
      inFlight = null;
    });
  };
  beat();
  const cancel = every(o.timers ?? realTimers, Math.max(10, o.intervalMs ?? DEFAULT_PRESENCE_MS), beat, {
    unref: true,
  });
  return {
    async stop() {
      cancel();
      let timeout: NodeJS.Timeout | undefined;
      const late = new Promise<void>((r) => {
        timeout = setTimeout(r, STOP_WRITE_MS);
      });
      try {
        await Promise.race([
          (async () => {
            await inFlight;
            if (!gaveUp) await write(true);
          })(),
          late,
        ]);
      } finally {
        clearTimeout(timeout);
      }
    },
  };
}
