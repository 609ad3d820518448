import type { EventOf } from "../events.js";
import type { Event } from "../events.js";
import { compareStrings, groupBy, ofType, selectEvents, type AnalyticsOptions } from "./window.js";
import { nearestRank, rateOf } from "./percentiles.js";

/** Figures of one tool and operation over a window. */
export interface CallStats {
  tool: string;
  operation: string;
  count: number;
  errorCount: number;
  /** Percentage 0–100 of calls whose outcome was "error". */
  errorRate: number;
  /** Nearest-rank percentiles of the calls' durations (µs). */
  p50Us: number;
  p95Us: number;
  maxUs: number;
}

/** Calls per tool and operation, ordered by tool then operation. */
export interface CallAnalytics {
  calls: CallStats[];
}

/** AI usage summed over some calls. */
export interface UsageTotals {
  /** Calls that reported usage. */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Sum of the known costs: the sum of each call's integer micro-dollars (`usage.costMicroUsd`, added by the backend), divided by 1e6. */
  costUsd: number;
}

/** AI usage of one workflow and model. */
export interface ModelUsage extends UsageTotals {
  workflowSlug: string;
  model: string;
}

/** AI usage per workflow and model (ordered by workflowSlug then model), and the totals. */
export interface UsageAnalytics {
  usage: ModelUsage[];
  totals: UsageTotals;
}

/** AI usage of one run: per model (ordered by model) and in total. */
export interface RunUsage {
  runId: string;
  byModel: Array<UsageTotals & { model: string }>;
  totals: UsageTotals;
}

/** A cost in integer micro-dollars: `floor(costUsd * 1e6 + 0.5)` (the same expression in SQL). */
export function costMicroUsd(costUsd: number): number {
  return Math.floor(costUsd * 1e6 + 0.5);
}

/** The calls of `q`'s selection (selectEvents), then grouped by tool and operation. */
export function computeCallAnalytics(
  events: readonly Event[],
  q: AnalyticsOptions | undefined,
  nowUs: number,
): CallAnalytics {
  const calls = ofType(selectEvents(events, q, nowUs), "StepCall");
  const groups = groupBy(calls, (c) => `${c.tool}\u0000${c.operation}`);
  const out: CallStats[] = [];
  for (const list of groups.values()) {
    const first = list[0] as EventOf<"StepCall">;
    const sorted = list.map((c) => c.durationUs).sort((a, b) => a - b);
    const errorCount = list.filter((c) => c.outcome === "error").length;
    out.push({
      tool: first.tool,
      operation: first.operation,
      count: list.length,
      errorCount,
      errorRate: rateOf(errorCount, list.length),
      p50Us: nearestRank(sorted, 50),
      p95Us: nearestRank(sorted, 95),
      maxUs: sorted[sorted.length - 1] ?? 0,
    });
  }
  return { calls: out.sort((a, b) => compareStrings(a.tool, b.tool) || compareStrings(a.operation, b.operation)) };
}

/** Zero usage. */
export const emptyUsage = (): UsageTotals => ({ calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 });

/** Sums usage figures given as integer micro-dollars (`micro`), then converts the cost once. */
export function usageTotals(
  figures: ReadonlyArray<{ calls: number; inputTokens: number; outputTokens: number; micro: number }>,
): UsageTotals {
  const t = { calls: 0, inputTokens: 0, outputTokens: 0, micro: 0 };
  for (const f of figures) {
    t.calls += f.calls;
    t.inputTokens += f.inputTokens;
    t.outputTokens += f.outputTokens;
    t.micro += f.micro;
  }
  return { calls: t.calls, inputTokens: t.inputTokens, outputTokens: t.outputTokens, costUsd: t.micro / 1e6 };
}

function figuresOf(c: EventOf<"StepCall">): {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  micro: number;
} {
  const u = c.usage;
  if (!u) return { calls: 0, inputTokens: 0, outputTokens: 0, micro: 0 };
  return { calls: 1, inputTokens: u.inputTokens, outputTokens: u.outputTokens, micro: u.costMicroUsd ?? 0 };
}

/** AI usage of the calls with usage in `q`'s selection, per workflow and model. */
export function computeUsageAnalytics(
  events: readonly Event[],
  q: AnalyticsOptions | undefined,
  nowUs: number,
): UsageAnalytics {
  const calls = ofType(selectEvents(events, q, nowUs), "StepCall").filter((c) => c.usage !== undefined);
  const groups = groupBy(calls, (c) => `${c.workflowSlug}\u0000${c.usage?.model}`);
  const usage: ModelUsage[] = [];
  for (const list of groups.values()) {
    const first = list[0] as EventOf<"StepCall">;
    usage.push({
      workflowSlug: first.workflowSlug,
      model: first.usage?.model ?? "",
      ...usageTotals(list.map(figuresOf)),
    });
  }
  usage.sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug) || compareStrings(a.model, b.model));
  return { usage, totals: usageTotals(calls.map(figuresOf)) };
}

/** AI usage of one run's calls (all of its events, any time). */
export function computeRunUsage(runId: string, events: readonly Event[]): RunUsage {
  const calls = ofType(events, "StepCall").filter((c) => c.runId === runId && c.usage !== undefined);
  const groups = groupBy(calls, (c) => c.usage?.model ?? "");
  const byModel = [...groups]
    .map(([model, list]) => ({ model, ...usageTotals(list.map(figuresOf)) }))
    .sort((a, b) => compareStrings(a.model, b.model));
  return { runId, byModel, totals: usageTotals(calls.map(figuresOf)) };
}
