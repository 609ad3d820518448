import type { Backend } from "@cairn/backend-interface";
import { durationMsFlag, intFlag, parse, printJson, withBackend, type Command } from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { renderObject } from "./format.js";

type Query = (b: Backend, o: { window: { startUs?: number; endUs?: number; workflowSlug?: string; stepId?: string }; fingerprint?: string; strategy: "exact" | "normalized" | "portable"; limit?: number }) => Promise<unknown>;

const QUERIES: Record<string, { summary: string; query: Query }> = {
  errors: { summary: "errors grouped by fingerprint", query: (b, o) => b.getErrorsList({ groupingStrategy: o.strategy, ...range(o.window), ...(o.window.workflowSlug ? { workflowSlug: o.window.workflowSlug } : {}), ...(o.limit ? { limit: o.limit } : {}) }) },
  error: { summary: "every occurrence of one fingerprint (cairn analytics error <fingerprint>)", query: (b, o) => b.getErrorDetail(o.fingerprint!, o.strategy, { ...range(o.window), ...(o.limit ? { limit: o.limit } : {}) }) },
  retries: { summary: "retry patterns and how often retries succeed", query: (b, o) => b.getRetryAnalysis(o.window) },
  latency: { summary: "time from a step becoming ready to its start", query: (b, o) => b.getSchedulingLatency(o.window) },
  durations: { summary: "step and run durations", query: async (b, o) => ({ steps: await b.getStepDuration(o.window), runs: await b.getWorkflowDuration(o.window) }) },
  workers: { summary: "workers, their last sign of life and stability", query: async (b, o) => ({ active: await b.getActiveWorkers({ includeInactive: true }), stability: await b.getWorkerStability(o.window) }) },
  throughput: { summary: "runs and steps finished over time", query: (b, o) => b.getThroughput(o.window) },
  success: { summary: "success and failure rates", query: (b, o) => b.getSuccessRate(o.window) },
  queue: { summary: "ready and delayed steps now", query: async (b, o) => ({ total: await b.getQueueDepth(o.window.workflowSlug ? { workflowSlug: o.window.workflowSlug } : {}), byWorkflow: await b.getQueueDepthByWorkflow() }) },
  summary: { summary: "every analytics query in one answer", query: (b, o) => b.getAnalyticsSummary(o.window) },
};

function range(w: { startUs?: number; endUs?: number }): { timeRange?: { start: number; end: number } } {
  return w.startUs !== undefined ? { timeRange: { start: w.startUs, end: w.endUs ?? Date.now() * 1000 } } : {};
}

/** `cairn analytics <query>`: failures, retries, latency, durations, workers, throughput, success rates, queue. */
export const analyticsCommand: Command = {
  name: "analytics",
  summary: "analytics: errors, error, retries, latency, durations, workers, throughput, success, queue, summary",
  usage: `cairn analytics <${Object.keys(QUERIES).join("|")}> [--since <24h>] [--workflow <slug>] [--step <id>]
                  [--strategy exact|normalized|portable] [--limit <n>] [--json]
${Object.entries(QUERIES).map(([k, q]) => `  ${k.padEnd(11)}${q.summary}`).join("\n")}`,
  async run(args, io) {
    const { values: v, positionals } = parse(args, { since: { type: "string" }, workflow: { type: "string" }, step: { type: "string" }, strategy: { type: "string" }, limit: { type: "string" } });
    const [kind, fingerprint] = positionals;
    const q = kind ? QUERIES[kind] : undefined;
    if (!q) throw new UsageError(`cairn analytics needs one of: ${Object.keys(QUERIES).join(", ")}${kind ? ` (got ${JSON.stringify(kind)})` : ""}.`);
    if (kind === "error" && !fingerprint) throw new UsageError("cairn analytics error needs a fingerprint; list them with `cairn analytics errors`.");
    const strategy = (v.strategy ?? "normalized") as "exact" | "normalized" | "portable";
    if (!["exact", "normalized", "portable"].includes(strategy)) throw new UsageError("--strategy must be exact, normalized or portable.");
    const sinceMs = durationMsFlag("since", v.since);
    const nowUs = Date.now() * 1000;
    const window = { ...(sinceMs ? { startUs: Math.max(0, nowUs - sinceMs * 1000), endUs: nowUs } : {}), ...(v.workflow ? { workflowSlug: v.workflow } : {}), ...(v.step ? { stepId: v.step } : {}) };
    const limit = intFlag("limit", v.limit, 1);
    return withBackend(v.backend, io, async (backend) => {
      const result = await q.query(backend, { window, strategy, ...(fingerprint ? { fingerprint } : {}), ...(limit ? { limit } : {}) });
      if (v.json) printJson(io, result);
      else io.stdout(`${renderObject(result)}\n`);
      return ExitCode.ok;
    });
  },
};
