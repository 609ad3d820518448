const SKIP_BRAND = Symbol.for("cairn.skip");

/** Thrown by a step to skip itself: the step is recorded as skipped and its dependents are cascade-skipped. */
export class Skip extends Error {
  readonly [SKIP_BRAND] = true;
  readonly metadata?: Record<string, unknown>;
  constructor(reason = "skipped by the step", metadata?: Record<string, unknown>) {
    super(reason);
    this.name = "Skip";
    if (metadata) this.metadata = metadata;
  }
}

/** True for a Skip error (from any copy of this module, or a child process's report). */
export function isSkip(err: unknown): err is Skip {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[SKIP_BRAND] === true;
}
