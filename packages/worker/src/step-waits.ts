import type { StepWait } from "@cairn/backend-interface";
import { parseDurationMs } from "./retention-spec.js";

const WAIT_BRAND = Symbol.for("cairn.wait");

/**
 * Thrown by `ctx.sleep`, `ctx.waitForEvent` and `ctx.poll` when the step must wait: the worker records the wait
 * (StepWaiting, and the next attempt scheduled for the wake), gives back the slot, and the step function runs again on
 * wake, replaying its checkpoints. A step must not catch it (rethrow what it does not know).
 */
export class StepWaitRequest extends Error {
  readonly [WAIT_BRAND] = true;
  constructor(readonly wait: StepWait) {
    super(`the step waits (${wait.kind} ${wait.name})`);
    this.name = "StepWaitRequest";
  }
}

/** True for a StepWaitRequest (from any copy of this module). */
export function isWaitRequest(err: unknown): err is StepWaitRequest {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[WAIT_BRAND] === true;
}

/** `ctx.poll` gave up: `check` returned no value before the timeout. */
export class PollTimeoutError extends Error {
  readonly code = "POLL_TIMEOUT";
  constructor(
    readonly pollName: string,
    readonly timeoutMs: number,
  ) {
    super(`poll ${pollName} returned no value within ${timeoutMs} ms; raise its timeout or handle the error`);
    this.name = "PollTimeoutError";
  }
}

/** A wait's options that are not durations or names the step can be told about. */
export class InvalidWaitError extends Error {
  readonly code = "INVALID_WAIT";
  constructor(message: string) {
    super(message);
    this.name = "InvalidWaitError";
  }
}

/** A duration: ms, or a string such as "30s", "10m", "2h", "7d". */
export type WaitDuration = number | string;

/** The waits of a step context: `sleep`, `waitForEvent`, `poll`. */
export interface StepWaits {
  /** Sleeps durably: the step gives back its slot and runs again after `duration` (earlier work replayed from checkpoints). */
  sleep(name: string, duration: WaitDuration): Promise<void>;
  /**
   * Waits for a signal named `name` (`cairn signal`, `client.signal`, or an emit), buffered: one sent before the wait is
   * not lost. Returns its payload, or null after `timeout`. `match`: fields the payload must equal.
   */
  waitForEvent<T = unknown>(
    name: string,
    options?: { timeout?: WaitDuration; match?: Record<string, unknown> },
  ): Promise<T | null>;
  /** Calls `check` every `every` until it returns a value other than undefined or null (holding no slot between calls); PollTimeoutError after `timeout`. */
  poll<T>(
    name: string,
    options: { every: WaitDuration; timeout: WaitDuration },
    check: () => T | null | undefined | Promise<T | null | undefined>,
  ): Promise<T>;
}

/** What the waits are built on: the step's checkpoints (recalled or saved by name), the signals it took, the store's clock. */
export interface WaitIO {
  recall(name: string): { found: boolean; value?: unknown };
  remember(name: string, value: unknown): Promise<void>;
  /** Payloads (serialised) of the signals the store gave this step, by signal name, in order. */
  signals: ReadonlyArray<{ name: string; payload: string }>;
  nowUs(): number;
}

function durationUs(value: WaitDuration, what: string): number {
  const ms = parseDurationMs(value);
  if (ms === null)
    throw new InvalidWaitError(
      `${what} must be a duration such as 500 (ms), "30s", "10m" or "2h", got ${JSON.stringify(value)}`,
    );
  return ms * 1000;
}

function checkName(name: unknown, what: string): asserts name is string {
  if (typeof name !== "string" || !/^[A-Za-z0-9._-]{1,128}$/.test(name)) {
    throw new InvalidWaitError(
      `${what} name must be letters, digits, "-", "_" or "." (at most 128), got ${JSON.stringify(name)}`,
    );
  }
}

/** Builds the waits over a step's checkpoints. Each wait's name is used once per step, like a checkpoint's. */
export function makeWaits(io: WaitIO): StepWaits {
  /** A value fixed the first time it is asked for (a deadline), replayed after. */
  const fixed = async (key: string, make: () => number): Promise<number> => {
    const hit = io.recall(key);
    if (hit.found) return hit.value as number;
    const value = make();
    await io.remember(key, value);
    return value;
  };
  return {
    async sleep(name, duration) {
      checkName(name, "sleep");
      const d = durationUs(duration, `sleep ${name}: duration`);
      const until = await fixed(`sleep:${name}`, () => io.nowUs() + d);
      if (io.nowUs() >= until) return;
      throw new StepWaitRequest({ kind: "sleep", name, untilUs: until });
    },
    async waitForEvent<T>(
      name: string,
      options: { timeout?: WaitDuration; match?: Record<string, unknown> } = {},
    ): Promise<T | null> {
      checkName(name, "waitForEvent");
      const done = io.recall(`wait:${name}`);
      if (done.found) return done.value as T | null;
      if (
        options.match !== undefined &&
        (typeof options.match !== "object" || options.match === null || Array.isArray(options.match))
      ) {
        throw new InvalidWaitError(
          `waitForEvent ${name}: match must be an object of payload fields, got ${JSON.stringify(options.match)}`,
        );
      }
      if (options.match !== undefined) {
        try {
          JSON.stringify(options.match); // stored with the wait: it must be JSON
        } catch (err) {
          throw new InvalidWaitError(`waitForEvent ${name}: match must be plain JSON data (${(err as Error).message})`);
        }
      }
      const signal = io.signals.find((s) => s.name === name);
      if (signal) {
        const payload = JSON.parse(signal.payload) as T;
        await io.remember(`wait:${name}`, payload);
        return payload;
      }
      const timeout =
        options.timeout === undefined ? undefined : durationUs(options.timeout, `waitForEvent ${name}: timeout`);
      const until = timeout === undefined ? undefined : await fixed(`wait-until:${name}`, () => io.nowUs() + timeout);
      if (until !== undefined && io.nowUs() >= until) {
        await io.remember(`wait:${name}`, null);
        return null;
      }
      throw new StepWaitRequest({
        kind: "event",
        name,
        ...(until !== undefined ? { untilUs: until } : {}),
        ...(options.match ? { match: options.match } : {}),
      });
    },
    async poll<T>(
      name: string,
      options: { every: WaitDuration; timeout: WaitDuration },
      check: () => T | null | undefined | Promise<T | null | undefined>,
    ): Promise<T> {
      checkName(name, "poll");
      const done = io.recall(`poll:${name}`);
      if (done.found) return done.value as T;
      const every = durationUs(options?.every, `poll ${name}: every`);
      const timeout = durationUs(options?.timeout, `poll ${name}: timeout`);
      if (every <= 0) throw new InvalidWaitError(`poll ${name}: every must be more than 0`);
      const until = await fixed(`poll-until:${name}`, () => io.nowUs() + timeout);
      const value = await check();
      if (value !== undefined && value !== null) {
        await io.remember(`poll:${name}`, value);
        return value;
      }
      const now = io.nowUs();
      if (now >= until) throw new PollTimeoutError(name, Math.round(timeout / 1000));
      throw new StepWaitRequest({ kind: "poll", name, untilUs: Math.min(now + every, until) });
    },
  };
}
