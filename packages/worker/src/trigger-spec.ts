import { cronProblem, eventNameProblem, timezoneProblem, type ScheduleSpec } from "@cairn/backend-interface";
import { parseDurationMs } from "./retention-spec.js";

/** A workflow's triggers as declared: the events it listens to and when it runs by itself. */
export interface TriggerDeclaration {
  /** Event names (`"order.created"`): `cairn emit` / `client.emit` of one starts a run with the payload as input. */
  on?: readonly string[];
  /** A cron expression (`"*\/5 * * * *"`) or a list of them: each tick starts one run with input `{ scheduledAt }`. */
  schedule?: string | readonly string[];
  /** IANA timezone the schedule is read in (default `"UTC"`). */
  timezone?: string;
  /** Catch up the ticks missed within this window while no worker ran (`"2h"`, `"30m"`, or ms); default: only the latest. */
  backfill?: string | number;
}

/** The stored form of a declaration's triggers, or the problems that make it invalid (each naming its field). */
export function toTriggers(decl: TriggerDeclaration): { on?: string[]; schedule?: ScheduleSpec; problems: string[] } {
  const problems: string[] = [];
  let on: string[] | undefined;
  if (decl.on !== undefined) {
    if (!Array.isArray(decl.on))
      problems.push(`on must be a list of event names such as ["order.created"], got ${JSON.stringify(decl.on)}`);
    else {
      for (const name of decl.on) {
        const p = eventNameProblem(name);
        if (p) problems.push(`on: ${p}`);
      }
      on = [...new Set(decl.on as string[])];
    }
  }
  let schedule: ScheduleSpec | undefined;
  if (decl.schedule !== undefined) {
    const cron =
      typeof decl.schedule === "string" ? [decl.schedule] : Array.isArray(decl.schedule) ? [...decl.schedule] : null;
    if (!cron || cron.length === 0)
      problems.push(
        `schedule must be a cron expression such as "*/5 * * * *" or a non-empty list of them, got ${JSON.stringify(decl.schedule)}`,
      );
    else
      for (const c of cron) {
        const p = cronProblem(c);
        if (p) problems.push(`schedule: ${p}`);
      }
    if (decl.timezone !== undefined) {
      const p = timezoneProblem(decl.timezone);
      if (p) problems.push(`timezone: ${p}`);
    }
    let backfillMs: number | undefined;
    if (decl.backfill !== undefined) {
      const ms = parseDurationMs(decl.backfill);
      if (ms === null)
        problems.push(
          `backfill must be a duration such as "2h", "30m" or "1d" (or ms), got ${JSON.stringify(decl.backfill)}`,
        );
      else backfillMs = ms;
    }
    if (cron)
      schedule = {
        cron,
        ...(decl.timezone === undefined ? {} : { timezone: decl.timezone }),
        ...(backfillMs === undefined ? {} : { backfillMs }),
      };
  } else {
    if (decl.timezone !== undefined)
      problems.push('timezone is set without a schedule; add schedule: "<cron expression>" or remove timezone');
    if (decl.backfill !== undefined)
      problems.push('backfill is set without a schedule; add schedule: "<cron expression>" or remove backfill');
  }
  if (problems.length) return { problems };
  return { ...(on && on.length ? { on } : {}), ...(schedule ? { schedule } : {}), problems };
}
