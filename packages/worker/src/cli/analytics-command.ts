import type { Backend } from "@cairn/backend-interface";
import {
  action,
  defineCommand,
  durationMsFlag,
  intFlag,
  printJson,
  withBackend,
  type CliContext,
  type CliProgram,
  type CommonOptions,
} from "./command.js";
import { CliNotFoundError, ExitCode, UsageError } from "./exit-codes.js";
import * as render from "./analytics-render.js";
import { renderCallAnalytics, renderCounterAnalytics, renderUsageAnalytics } from "./analytics-calls-render.js";

type Strategy = "exact" | "normalized" | "portable";
const STRATEGIES: Strategy[] = ["exact", "normalized", "portable"];

interface AnalyticsFlags {
  since?: string;
  workflow?: string;
  step?: string;
  strategy?: string;
  limit?: string;
  run?: string;
}

/** What one query gets: the window, grouping, page size and the fingerprint (`error`). */
interface QueryInput {
  window: { startUs?: number; endUs?: number; workflowSlug?: string; stepId?: string };
  strategy: Strategy;
  limit?: number;
  fingerprint?: string;
  /** `usage --run`: one run's usage instead of a window. */
  runId?: string;
}

/** One `cairn analytics <query>`: what it asks the backend, and how it prints for people. */
interface Query {
  summary: string;
  example: string;
  ask: (b: Backend, q: QueryInput) => Promise<unknown>;
  show: (result: never, c: render.RenderContext, nowUs: number) => string;
}

const range = (w: QueryInput["window"]) =>
  w.startUs !== undefined ? { timeRange: { start: w.startUs, end: w.endUs ?? Date.now() * 1000 } } : {};

const QUERIES: Record<string, Query> = {
  errors: {
    summary: "errors grouped by fingerprint",
    example: "cairn analytics errors --since 24h --workflow etl",
    ask: (b, q) =>
      b.getErrorsList({
        groupingStrategy: q.strategy,
        ...range(q.window),
        ...(q.window.workflowSlug ? { workflowSlug: q.window.workflowSlug } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      }),
    show: render.renderErrors,
  },
  error: {
    summary: "every occurrence of one error fingerprint",
    example: "cairn analytics error 3f9a2c1e7b",
    ask: async (b, q) => {
      const detail = await b.getErrorDetail(q.fingerprint!, q.strategy, {
        ...range(q.window),
        ...(q.limit ? { limit: q.limit } : {}),
      });
      if (detail.totalCount === 0) {
        const scope = `grouping ${q.strategy}${q.window.startUs !== undefined ? ", in the --since window" : ""}`;
        const list = `cairn analytics errors${q.strategy === "normalized" ? "" : ` --strategy ${q.strategy}`}`;
        throw new CliNotFoundError(
          "FINGERPRINT_NOT_FOUND",
          `No error has fingerprint ${JSON.stringify(q.fingerprint)} (${scope}). List them with \`${list}\`.`,
          { fingerprint: q.fingerprint, strategy: q.strategy },
        );
      }
      return detail;
    },
    show: render.renderErrorDetail,
  },
  retries: {
    summary: "retry patterns and how often retries succeed",
    example: "cairn analytics retries --since 7d",
    ask: (b, q) => b.getRetryAnalysis(q.window),
    show: render.renderRetries,
  },
  latency: {
    summary: "time from a step becoming ready to its start",
    example: "cairn analytics latency --workflow etl",
    ask: (b, q) => b.getSchedulingLatency(q.window),
    show: render.renderLatency,
  },
  durations: {
    summary: "step and run durations (avg, p50, p95, p99, max)",
    example: "cairn analytics durations --since 1h",
    ask: async (b, q) => ({ steps: await b.getStepDuration(q.window), runs: await b.getWorkflowDuration(q.window) }),
    show: render.renderDurations,
  },
  workers: {
    summary: "workers, their last sign of life and stability",
    example: "cairn analytics workers",
    ask: async (b, q) => ({
      active: await b.getActiveWorkers({ includeInactive: true }),
      stability: await b.getWorkerStability(q.window),
    }),
    show: render.renderWorkers,
  },
  throughput: {
    summary: "runs and steps finished per minute and hour",
    example: "cairn analytics throughput --since 1h",
    ask: (b, q) => b.getThroughput(q.window),
    show: render.renderThroughput,
  },
  success: {
    summary: "success and failure rates",
    example: "cairn analytics success --since 24h",
    ask: (b, q) => b.getSuccessRate(q.window),
    show: render.renderSuccess,
  },
  queue: {
    summary: "ready and delayed runs and steps now",
    example: "cairn analytics queue",
    ask: async (b, q) => ({
      total: await b.getQueueDepth(q.window.workflowSlug ? { workflowSlug: q.window.workflowSlug } : {}),
      byWorkflow: await b.getQueueDepthByWorkflow(),
    }),
    show: render.renderQueue,
  },
  calls: {
    summary: "calls per tool and operation (count, error rate, p50, p95)",
    example: "cairn analytics calls --since 24h --workflow sync",
    ask: (b, q) => b.getCallAnalytics(q.window),
    show: renderCallAnalytics,
  },
  usage: {
    summary: "AI usage (calls, tokens, cost) per workflow and model, or of one run",
    example: "cairn analytics usage --since 7d",
    ask: (b, q) => (q.runId ? b.getRunUsage(q.runId) : b.getUsageAnalytics(q.window)),
    show: renderUsageAnalytics,
  },
  counters: {
    summary: "run counters (ctx.increment) summed per workflow over the runs created in the window",
    example: "cairn analytics counters --since 7d --workflow sync",
    ask: (b, q) => b.getCounterAnalytics(q.window),
    show: renderCounterAnalytics,
  },
  summary: {
    summary: "every analytics query in one page",
    example: "cairn analytics summary --since 24h",
    ask: (b, q) => b.getAnalyticsSummary(q.window),
    show: render.renderSummary,
  },
};

/** `cairn analytics <query>`: failures, retries, latency, durations, workers, throughput, success rates, queue, calls, AI usage, counters. */
export function defineAnalyticsCommand(cli: CliProgram): void {
  const group = defineCommand(
    cli,
    "analytics",
    `analytics: ${Object.keys(QUERIES).join(", ")}`,
    Object.values(QUERIES)
      .slice(0, 4)
      .map((q) => q.example),
  );
  for (const [name, q] of Object.entries(QUERIES)) {
    const cmd = group
      .command(name)
      .summary(q.summary)
      .description(`${q.summary[0]!.toUpperCase()}${q.summary.slice(1)}.`);
    if (name === "error")
      cmd.argument("<fingerprint>", "as listed by `cairn analytics errors` (with the same --strategy)");
    cmd
      .option("--since <duration>", "only what happened in this last stretch of time (30m, 24h, 7d)")
      .option("--workflow <slug>", "only this workflow")
      .option("--step <id>", "only this step");
    if (name === "usage") cmd.option("--run <runId>", "the usage of this run (any age) instead of a window");
    if (name === "errors" || name === "error")
      cmd
        .option(
          "--strategy <s>",
          "how errors are grouped: exact, normalized (default: numbers, ids and paths masked) or portable",
          "normalized",
        )
        .option("--limit <n>", "at most this many rows");
    cmd.addHelpText("after", `\nExample:\n  $ ${q.example}\n`);
    cmd.action(action<AnalyticsFlags>(cli, async ([fingerprint], v, cx) => runQuery(q, fingerprint, v, cx)));
  }
}

async function runQuery(
  q: Query,
  fingerprint: string | undefined,
  v: AnalyticsFlags & CommonOptions,
  cx: CliContext,
): Promise<ExitCode> {
  const strategy = (v.strategy ?? "normalized") as Strategy;
  if (!STRATEGIES.includes(strategy))
    throw new UsageError(`--strategy must be exact, normalized or portable, got ${JSON.stringify(v.strategy)}.`);
  const sinceMs = durationMsFlag("since", v.since);
  const limit = intFlag("limit", v.limit, 1);
  return withBackend(v.backend, cx.io, async (backend) => {
    const nowUs = backend.clock.nowUs();
    const window = {
      ...(sinceMs ? { startUs: Math.max(0, nowUs - sinceMs * 1000), endUs: nowUs } : {}),
      ...(v.workflow ? { workflowSlug: v.workflow } : {}),
      ...(v.step ? { stepId: v.step } : {}),
    };
    const result = await q.ask(backend, {
      window,
      strategy,
      ...(limit ? { limit } : {}),
      ...(fingerprint ? { fingerprint } : {}),
      ...(v.run ? { runId: v.run } : {}),
    });
    if (v.json) printJson(cx.io, result);
    else cx.io.stdout(`${q.show(result as never, { s: cx.out, columns: cx.columns }, nowUs)}\n`);
    return ExitCode.ok;
  });
}
