import type { RetentionPolicy } from "@cairn/backend-interface";

/** How long ended runs are kept, per status: a duration (`"7d"`, `"12h"`, `"30m"`, `"90s"`) or ms. */
export interface RetentionSpec {
  completed?: string | number;
  failed?: string | number;
  cancelled?: string | number;
}

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration (`500ms`, `30s`, `15m`, `2h`, `7d`, or a number of ms) in ms, or null when it is not one. */
export function parseDurationMs(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
  if (typeof value !== "string") return null;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  return m ? Math.round(Number(m[1]) * UNITS[(m[2] ?? "ms") as keyof typeof UNITS]) : null;
}

/** The stored policy of a spec, or the problems that make it invalid (each says what is expected). */
export function toRetentionPolicy(spec: unknown, where: string): { policy?: RetentionPolicy; problems: string[] } {
  if (spec === undefined) return { problems: [] };
  if (spec === null || typeof spec !== "object" || Array.isArray(spec))
    return { problems: [`${where} must be an object such as { completed: "7d", failed: "30d" }`] };
  const problems: string[] = [];
  const policy: RetentionPolicy = {};
  for (const [status, value] of Object.entries(spec)) {
    if (status !== "completed" && status !== "failed" && status !== "cancelled") {
      problems.push(`${where}.${status} is not a run status that ends; use completed, failed or cancelled`);
      continue;
    }
    const ms = parseDurationMs(value);
    if (ms === null)
      problems.push(
        `${where}.${status} must be a duration such as "7d", "12h" or "30m" (or ms), got ${JSON.stringify(value)}`,
      );
    else policy[`${status}Ms`] = ms;
  }
  return problems.length ? { problems } : { policy, problems };
}
