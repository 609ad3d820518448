import { Cron } from "croner";

/** A workflow's schedule as registered: cron expressions, the timezone they are read in, and how far back to catch up. */
export interface ScheduleSpec {
  /** Cron expressions (croner's syntax: 5 fields, or 6 with seconds first); a tick of any of them starts a run. */
  cron: string[];
  /** IANA timezone the expressions are read in (default UTC). */
  timezone?: string | undefined;
  /** Ticks missed within this window (ms) are caught up; absent: only the latest due tick is started. */
  backfillMs?: number | undefined;
}

/** The most ticks of one schedule a single pass starts (a backfill window over a per-second schedule stays bounded). */
export const MAX_TICKS_PER_PASS = 1000;

const EVENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$/;

/** True when `name` is a valid event name: letters, digits, `_`, `.`, `:`, `-`, not starting with a separator, at most 200 characters. */
export function isValidEventName(name: unknown): name is string {
  return typeof name === "string" && EVENT_NAME.test(name) && !name.includes("..");
}

/** What is wrong with an event name, or undefined when it is valid. */
export function eventNameProblem(name: unknown): string | undefined {
  if (isValidEventName(name)) return undefined;
  return `${JSON.stringify(name)} is not a valid event name (letters, digits, "_", ".", ":", "-"; starting with a letter, digit or "_"; at most 200 characters; e.g. "order.created")`;
}

/** What is wrong with a timezone, or undefined when it is a known IANA name. */
export function timezoneProblem(timezone: unknown): string | undefined {
  if (typeof timezone !== "string" || timezone.length === 0)
    return `timezone must be an IANA timezone name such as "Europe/Paris", got ${JSON.stringify(timezone)}`;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return undefined;
  } catch {
    return `unknown timezone ${JSON.stringify(timezone)} (use an IANA name such as "Europe/Paris" or "UTC")`;
  }
}

/** What is wrong with a cron expression, or undefined when croner parses it. */
export function cronProblem(expression: unknown): string | undefined {
  if (typeof expression !== "string" || expression.trim().length === 0)
    return `a cron expression must be a non-empty string, got ${JSON.stringify(expression)}`;
  try {
    new Cron(expression, { paused: true });
    return undefined;
  } catch (err) {
    return `cron expression ${JSON.stringify(expression)} does not parse: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Every problem of a schedule (expressions, timezone, backfill), each naming its field; empty when it is valid. */
export function scheduleProblems(spec: ScheduleSpec): string[] {
  const problems: string[] = [];
  if (!Array.isArray(spec.cron) || spec.cron.length === 0)
    problems.push("schedule: needs at least one cron expression");
  else
    spec.cron.forEach((c) => {
      const p = cronProblem(c);
      if (p) problems.push(`schedule: ${p}`);
    });
  if (spec.timezone !== undefined) {
    const p = timezoneProblem(spec.timezone);
    if (p) problems.push(`timezone: ${p}`);
  }
  if (spec.backfillMs !== undefined && (!Number.isInteger(spec.backfillMs) || spec.backfillMs < 0))
    problems.push(`backfill: must be a non-negative duration, got ${String(spec.backfillMs)}`);
  return problems;
}

// croner's previousRuns leaves out a tick exactly at its reference: ask from just after `nowMs` so a tick at `nowMs` counts.
function after(nowMs: number): Date {
  return new Date(nowMs + 1);
}

// UTC unless the schedule names a timezone, never the host's: hosts in different zones must agree on every tick.
function cronOf(expression: string, timezone: string | undefined): Cron {
  return new Cron(expression, { paused: true, timezone: timezone ?? "UTC" });
}

/**
 * The ticks (ms, ascending, at most MAX_TICKS_PER_PASS, the newest kept) a schedule owes at `nowMs`, given the last
 * tick already started (`lastTickMs`, null when the schedule was never ticked):
 * - with a backfill window, every tick after `lastTickMs` and within `(nowMs - backfillMs, nowMs]`;
 * - without one, at most the latest tick at or before `nowMs`, if it is after `lastTickMs`;
 * - a schedule never ticked and without backfill owes nothing (its first run is its next tick, as graphile-worker does).
 */
export function dueTicks(spec: ScheduleSpec, lastTickMs: number | null, nowMs: number): number[] {
  const ticks = new Set<number>();
  for (const expression of spec.cron) {
    const cron = cronOf(expression, spec.timezone);
    if (spec.backfillMs !== undefined) {
      const fromMs = Math.max(lastTickMs ?? -Infinity, nowMs - spec.backfillMs);
      for (const d of cron.previousRuns(MAX_TICKS_PER_PASS, after(nowMs))) {
        const t = d.getTime();
        if (t <= fromMs) break;
        if (t <= nowMs) ticks.add(t);
      }
    } else if (lastTickMs !== null) {
      const latest = cron.previousRuns(1, after(nowMs))[0]?.getTime();
      if (latest !== undefined && latest > lastTickMs && latest <= nowMs) ticks.add(latest);
    }
  }
  return [...ticks].sort((a, b) => a - b).slice(-MAX_TICKS_PER_PASS);
}

/** The latest tick at or before `nowMs` of any of the schedule's expressions, or null. */
export function latestTick(spec: ScheduleSpec, nowMs: number): number | null {
  let best: number | null = null;
  for (const expression of spec.cron) {
    const t = cronOf(expression, spec.timezone).previousRuns(1, after(nowMs))[0]?.getTime();
    if (t !== undefined && t <= nowMs && (best === null || t > best)) best = t;
  }
  return best;
}

/** The first tick strictly after `afterMs` of any of the schedule's expressions, or null when none comes. */
export function nextTick(spec: ScheduleSpec, afterMs: number): number | null {
  let best: number | null = null;
  for (const expression of spec.cron) {
    const t = cronOf(expression, spec.timezone).nextRun(new Date(afterMs))?.getTime();
    if (t !== undefined && (best === null || t < best)) best = t;
  }
  return best;
}
