import { InvalidArgumentError } from "./errors.js";

/** What a counter name may be: a letter, then letters, digits, `_`, `.`, `-` (at most 64 characters). */
export const COUNTER_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
/** The most counters one increment may name. */
export const MAX_COUNTERS_PER_INCREMENT = 100;

/**
 * Checks an increment (`{ fetched: 50, inserted: 30 }`): a plain object of 1 to MAX_COUNTERS_PER_INCREMENT counters,
 * each named per COUNTER_NAME with a non-negative safe integer. Throws InvalidArgumentError naming the bad entry;
 * returns a copy without zero amounts (which add nothing).
 */
export function validateIncrement(counters: unknown): Record<string, number> {
  if (counters === null || typeof counters !== "object" || Array.isArray(counters)) {
    throw new InvalidArgumentError(
      `An increment is an object of counters, e.g. { fetched: 50 }; got ${JSON.stringify(counters) ?? String(counters)}.`,
      { field: "counters" },
    );
  }
  const entries = Object.entries(counters as Record<string, unknown>);
  if (entries.length === 0 || entries.length > MAX_COUNTERS_PER_INCREMENT)
    throw new InvalidArgumentError(
      `An increment names 1 to ${MAX_COUNTERS_PER_INCREMENT} counters, got ${entries.length}.`,
      { field: "counters" },
    );
  const out: Record<string, number> = {};
  for (const [name, value] of entries) {
    if (!COUNTER_NAME.test(name))
      throw new InvalidArgumentError(
        `Counter name ${JSON.stringify(name)} is not valid: use a letter, then letters, digits, _, . or - (at most 64).`,
        { field: "counters", counter: name },
      );
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw new InvalidArgumentError(
        `Counter ${name} must be incremented by a non-negative integer, got ${JSON.stringify(value) ?? String(value)}.`,
        { field: "counters", counter: name },
      );
    }
    if (value > 0) out[name] = value;
  }
  return out;
}
