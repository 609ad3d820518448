import { InvalidArgumentError } from "@cairn/backend-interface";

/** A duration: a number of milliseconds, or text such as `250ms`, `30s`, `10m`, `2h`, `7d` (also `1h30m`). */
export type Duration = number | string;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds of a duration; InvalidArgumentError (saying the accepted forms) for anything else or a negative one. */
export function durationMs(value: Duration): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === "string" && /^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(value.trim())) {
    let total = 0;
    for (const [, n, , unit] of value.trim().matchAll(/(\d+(\.\d+)?)(ms|s|m|h|d)/g))
      total += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
    return total;
  }
  throw new InvalidArgumentError(
    `a duration must be a number of ms ≥ 0 or text such as "250ms", "30s", "10m", "2h", "7d"; got ${JSON.stringify(value)}.`,
  );
}
