import type { CallAnalytics, CounterAnalytics, RunUsage, UsageAnalytics } from "@cairn/backend-interface";
import type { RenderContext } from "./analytics-render.js";
import { duration, indent, percent } from "./format.js";
import { renderTable, type Cell } from "./table.js";

const table = (c: RenderContext, headers: string[], rows: Cell[][]): string =>
  rows.length === 0
    ? "  (none)"
    : indent(renderTable(headers, rows, { columns: c.columns === undefined ? undefined : c.columns - 2 }), "  ");

/** `analytics calls`: one row per tool and operation. */
export function renderCallAnalytics(r: CallAnalytics, c: RenderContext): string {
  const total = r.calls.reduce((n, x) => n + x.count, 0);
  return [
    c.s.bold(`Calls: ${total} in ${r.calls.length} tool operation${r.calls.length === 1 ? "" : "s"}`),
    table(
      c,
      ["TOOL", "OPERATION", "COUNT", "ERRORS", "ERROR RATE", "P50", "P95", "MAX"],
      r.calls.map((x) => [
        x.tool,
        x.operation,
        x.count,
        x.errorCount,
        percent(x.errorRate),
        duration(x.p50Us),
        duration(x.p95Us),
        duration(x.maxUs),
      ]),
    ),
  ].join("\n");
}

const usd = (v: number): string => `$${v.toFixed(6).replace(/0{1,4}$/, "")}`;

/** `analytics usage`: one row per workflow and model, then the totals (or one run's usage per model with --run). */
export function renderUsageAnalytics(r: UsageAnalytics | RunUsage, c: RenderContext): string {
  const rows: Cell[][] =
    "usage" in r
      ? r.usage.map((u) => [u.workflowSlug, u.model, u.calls, u.inputTokens, u.outputTokens, usd(u.costUsd)])
      : r.byModel.map((u) => [r.runId, u.model, u.calls, u.inputTokens, u.outputTokens, usd(u.costUsd)]);
  const t = r.totals;
  return [
    c.s.bold(
      `AI usage: ${t.calls} call${t.calls === 1 ? "" : "s"}, ${t.inputTokens} input and ${t.outputTokens} output tokens, ${usd(t.costUsd)}`,
    ),
    table(c, ["usage" in r ? "WORKFLOW" : "RUN", "MODEL", "CALLS", "INPUT TOKENS", "OUTPUT TOKENS", "COST"], rows),
  ].join("\n");
}

/** `analytics counters`: one row per workflow and counter. */
export function renderCounterAnalytics(r: CounterAnalytics, c: RenderContext): string {
  return [
    c.s.bold("Counters of the runs created in the window"),
    table(
      c,
      ["WORKFLOW", "COUNTER", "TOTAL", "RUNS"],
      r.counters.map((x) => [x.workflowSlug, x.counter, x.total, x.runs]),
    ),
  ].join("\n");
}
