import { computeRunUsage, type CallRecord, type Event, type RunUsage, type StepLink } from "@cairn/backend-interface";
import { clip, duration, time } from "./format.js";
import type { Styles } from "./styles.js";
import { renderTable, type Cell } from "./table.js";

/** How many calls `cairn run` lists before folding the rest (all of them with --verbose). */
export const FOLDED_CALLS = 30;

/** The AI usage of a run, from its step events (no extra read). */
export function runUsageOf(runId: string, events: readonly Event[]): RunUsage {
  return computeRunUsage(runId, events);
}

/**
 * The calls of a run's steps, one row each in the order they were recorded: step (`step > child` for a call made in a
 * child step), attempt, tool, operation, outcome,
 * start, duration and a note (AI usage, the error of a failed call, else the output summary). Past FOLDED_CALLS rows
 * the rest are counted unless `verbose`. Empty when the run made no call.
 */
export function renderCalls(
  calls: readonly CallRecord[],
  o: { styles: Styles; columns: number | undefined; verbose?: boolean | undefined },
): string {
  if (calls.length === 0) return "";
  const s = o.styles;
  const shown = o.verbose ? calls : calls.slice(0, FOLDED_CALLS);
  const rows: Cell[][] = shown.map((c) => [
    c.childId === undefined ? c.stepId : `${c.stepId} > ${c.childId}`,
    `#${c.attemptNumber}`,
    c.tool,
    c.operation,
    c.outcome === "ok" ? s.green("ok") : s.red("error"),
    time(c.startedAtUs, true).slice(11),
    duration(c.durationUs),
    callNote(c),
  ]);
  const table = renderTable(["STEP", "ATTEMPT", "TOOL", "OPERATION", "OUTCOME", "STARTED", "DURATION", "NOTE"], rows, {
    columns: o.columns,
    shrink: [7, 3, 0],
    optional: [5, 1],
    wrap: true,
  });
  const more = calls.length - shown.length;
  return `${s.dim("calls")}\n${table}${more > 0 ? `\n${s.dim(`… ${more} more call${more === 1 ? "" : "s"} (--verbose lists them all)`)}` : ""}`;
}

function callNote(c: CallRecord): string {
  if (c.error) return `${c.error.name ? `${c.error.name}: ` : ""}${clip(c.error.message, 80)}`;
  if (c.usage)
    return `${c.usage.model} ${c.usage.inputTokens}+${c.usage.outputTokens} tokens${c.usage.costUsd !== undefined ? ` $${c.usage.costUsd}` : ""}`;
  return c.outputSummary !== undefined ? clip(c.outputSummary, 60) : "";
}

/** One line per model of the run's AI usage, then the total; empty when no call reported usage. */
export function renderUsage(u: RunUsage, s: Styles): string {
  if (u.totals.calls === 0) return "";
  const line = (label: string, t: RunUsage["totals"]) =>
    `  ${label.padEnd(24)} ${String(t.calls).padStart(5)} calls ${String(t.inputTokens).padStart(9)} in ${String(t.outputTokens).padStart(9)} out  $${t.costUsd}`;
  return [
    s.dim("AI usage"),
    ...u.byModel.map((m) => line(m.model, m)),
    ...(u.byModel.length > 1 ? [line("total", u.totals)] : []),
  ].join("\n");
}

/** The entities the run's steps touched (`ctx.link`), one row each in link order; empty when there are none. */
export function renderLinks(links: readonly StepLink[], o: { styles: Styles; columns: number | undefined }): string {
  if (links.length === 0) return "";
  const rows: Cell[][] = links.map((l) => [
    l.childId === undefined ? l.stepId : `${l.stepId} > ${l.childId}`,
    `#${l.attemptNumber}`,
    l.linkType,
    `${l.entityType}:${l.entityId}`,
    l.externalId ?? "",
  ]);
  return `${o.styles.dim("links")}\n${renderTable(["STEP", "ATTEMPT", "LINK", "ENTITY", "EXTERNAL ID"], rows, { columns: o.columns, shrink: [3, 4, 0], wrap: true })}`;
}
