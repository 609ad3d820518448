import type {
  AnalyticsSummary,
  ErrorDetail,
  ErrorsList,
  LiveWorkerInfo,
  Percentiles,
  QueueDepth,
  QueueDepthByWorkflow,
  RetryAnalysis,
  SchedulingLatency,
  StepDuration,
  SuccessRate,
  Throughput,
  WorkerStability,
  WorkflowDuration,
} from "@cairn/backend-interface";
import { FOLDED_FRAMES, errorText } from "./error-text.js";
import { clip, duration, indent, percent, time } from "./format.js";
import type { Styles } from "./styles.js";
import { renderTable, type Cell } from "./table.js";

/** How analytics answers are drawn: styles and the terminal width tables must fit. */
export interface RenderContext {
  s: Styles;
  columns: number | undefined;
}

const lines = (...parts: Array<string | false | undefined>): string =>
  parts.filter((p): p is string => typeof p === "string").join("\n");
const heading = (c: RenderContext, text: string): string => c.s.bold(text);
const pairs = (rows: Array<[string, string | number]>): string => {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join("\n");
};
const table = (c: RenderContext, headers: string[], rows: Cell[][], shrink?: number[]): string =>
  rows.length === 0
    ? "  (none)"
    : indent(
        renderTable(headers, rows, {
          columns: c.columns === undefined ? undefined : c.columns - 2,
          ...(shrink ? { shrink } : {}),
        }),
        "  ",
      );

/** A latency or duration distribution on one line: `avg 12ms · p50 10ms · p95 30ms · p99 31ms · max 40ms (12)`. */
export function distribution(p: Percentiles): string {
  if (p.count === 0) return "no samples";
  return `avg ${duration(p.averageUs)} · p50 ${duration(p.medianUs)} · p95 ${duration(p.p95Us)} · p99 ${duration(p.p99Us)} · max ${duration(p.maxUs)} (${p.count})`;
}

const PCT_HEADERS = ["COUNT", "AVG", "P50", "P95", "P99", "MAX"];
const pctCells = (p: Percentiles): Cell[] => [
  p.count,
  duration(p.averageUs),
  duration(p.medianUs),
  duration(p.p95Us),
  duration(p.p99Us),
  duration(p.maxUs),
];

/** `analytics errors`: one row per fingerprint. */
export function renderErrors(r: ErrorsList, c: RenderContext): string {
  return lines(
    heading(c, `Errors: ${r.total} fingerprint${r.total === 1 ? "" : "s"}`),
    table(
      c,
      ["FINGERPRINT", "COUNT", "RUNS", "LAST SEEN", "ERROR"],
      r.errors.map((e) => [
        e.fingerprint,
        e.count,
        e.affectedRuns,
        time(e.lastSeen),
        clip(`${e.errorName}: ${e.errorMessage}`, 300),
      ]),
      [4],
    ),
    r.errors.length ? c.s.dim("  Every occurrence of one: cairn analytics error <fingerprint>") : undefined,
  );
}

/** `analytics error <fingerprint>`: the group, its sample stack and its occurrences. */
export function renderErrorDetail(r: ErrorDetail, c: RenderContext): string {
  return lines(
    heading(
      c,
      `Error ${r.fingerprint}: ${r.totalCount} occurrence${r.totalCount === 1 ? "" : "s"} in ${r.affectedRuns} run${r.affectedRuns === 1 ? "" : "s"}`,
    ),
    pairs([
      ["first seen", time(r.firstSeen)],
      ["last seen", time(r.lastSeen)],
    ]),
    indent(
      c.s.red(errorText({ name: r.errorName, message: r.errorMessage, stack: r.sampleStack }, FOLDED_FRAMES)),
      "  ",
    ),
    "",
    table(
      c,
      ["WHEN", "RUN", "STEP", "ATTEMPT", "MESSAGE"],
      r.occurrences.map((o) => [
        time(o.timestampUs),
        o.runId,
        o.stepId,
        `#${o.attemptNumber}`,
        clip(o.errorMessage, 300),
      ]),
      [4],
    ),
  );
}

/** `analytics retries`. */
export function renderRetries(r: RetryAnalysis, c: RenderContext): string {
  return lines(
    heading(c, "Retries"),
    pairs([
      ["retries", r.totalRetries],
      ["steps retried", r.stepsWithRetries],
      ["succeeded after a retry", r.succeededAfterRetry],
      ["failed after a retry", r.failedAfterRetry],
      ["retry success rate", percent(r.retrySuccessRate)],
      ["highest attempt", r.maxAttemptNumber],
    ]),
    "",
    table(
      c,
      ["WORKFLOW", "STEP", "RETRIES", "STEPS", "SUCCEEDED", "FAILED", "SUCCESS"],
      r.byStep.map((b) => [
        b.workflowSlug,
        b.stepId,
        b.totalRetries,
        b.stepsWithRetries,
        b.succeededAfterRetry,
        b.failedAfterRetry,
        percent(b.retrySuccessRate),
      ]),
    ),
  );
}

/** `analytics latency`: time from a step becoming ready to its start. */
export function renderLatency(r: SchedulingLatency, c: RenderContext): string {
  return lines(
    heading(c, "Scheduling latency (ready → started)"),
    `  ${distribution(r.overall)}`,
    "",
    table(
      c,
      ["WORKFLOW", "STEP", ...PCT_HEADERS],
      r.byStep.map((b) => [b.workflowSlug, b.stepId, ...pctCells(b)]),
    ),
  );
}

/** `analytics durations`: step attempts and whole runs. */
export function renderDurations(r: { steps: StepDuration; runs: WorkflowDuration }, c: RenderContext): string {
  return lines(
    heading(c, "Step durations"),
    pairs([
      ["completed", distribution(r.steps.overall)],
      ["failed", distribution(r.steps.failed)],
    ]),
    "",
    table(
      c,
      ["WORKFLOW", "STEP", ...PCT_HEADERS],
      r.steps.byStep.map((b) => [b.workflowSlug, b.stepId, ...pctCells(b)]),
    ),
    "",
    heading(c, "Run durations"),
    pairs([
      ["completed", distribution(r.runs.overall)],
      ["failed", distribution(r.runs.failed)],
    ]),
    "",
    table(
      c,
      ["WORKFLOW", ...PCT_HEADERS],
      r.runs.byWorkflow.map((b) => [b.workflowSlug, ...pctCells(b)]),
    ),
  );
}

/** `analytics workers`: who is alive, and how stable each worker has been. */
export function renderWorkers(
  r: { active: LiveWorkerInfo[]; stability: WorkerStability },
  c: RenderContext,
  nowUs: number,
): string {
  const t = r.stability.totals;
  return lines(
    heading(c, "Workers (seen in the last 24 h)"),
    table(
      c,
      ["WORKER", "STATE", "LAST SEEN", "HOST", "CONCURRENCY", "RUNNING", "STARTED"],
      r.active.map((w) => [
        w.workerId,
        w.isActive ? c.s.green("active") : c.s.dim(w.stoppedAtUs ? "stopped" : "gone"),
        `${duration(Math.max(0, nowUs - w.lastSeenUs))} ago`,
        w.host ? `${w.host}${w.pid ? `:${w.pid}` : ""}` : "",
        w.concurrency ?? "",
        w.runningSteps,
        w.stepsStarted,
      ]),
      [0, 3],
    ),
    "",
    heading(
      c,
      `Stability: ${t.workers} worker${t.workers === 1 ? "" : "s"}, ${t.stepsStarted} attempts started, ${t.reclaims} reclaimed, ${t.crashFailures} crashes, ${t.zombieHeartbeats} zombie heartbeats`,
    ),
    table(
      c,
      ["WORKER", "STARTED", "COMPLETED", "FAILED", "CRASHES", "RECLAIMED", "RECLAIM RATE", "ZOMBIE BEATS"],
      r.stability.workers.map((w) => [
        w.workerId,
        w.stepsStarted,
        w.stepsCompleted,
        w.stepsFailed,
        w.crashFailures,
        w.reclaimedFrom,
        percent(w.reclaimRate),
        w.zombieHeartbeats,
      ]),
      [0],
    ),
  );
}

/** `analytics throughput`. */
export function renderThroughput(r: Throughput, c: RenderContext): string {
  return lines(
    heading(c, `Throughput over ${duration(r.windowUs)}`),
    pairs([
      ["runs completed", `${r.runsCompleted} (${r.runsPerMinute}/min, ${r.runsPerHour}/h)`],
      ["steps completed", `${r.stepsCompleted} (${r.stepsPerMinute}/min, ${r.stepsPerHour}/h)`],
    ]),
    "",
    table(
      c,
      ["WORKFLOW", "RUNS", "RUNS/H", "STEPS", "STEPS/H"],
      r.byWorkflow.map((b) => [b.workflowSlug, b.runsCompleted, b.runsPerHour, b.stepsCompleted, b.stepsPerHour]),
    ),
  );
}

/** `analytics success`: how runs and steps ended. */
export function renderSuccess(r: SuccessRate, c: RenderContext): string {
  const runs = (o: SuccessRate["runs"]) =>
    `${percent(o.successRate)} completed, ${percent(o.failureRate)} failed, ${percent(o.cancellationRate)} cancelled of ${o.total}`;
  const steps = (o: SuccessRate["steps"]) =>
    `${percent(o.successRate)} completed, ${percent(o.failureRate)} failed, ${percent(o.skipRate)} skipped of ${o.total}`;
  return lines(
    heading(c, "Success"),
    pairs([
      ["runs", runs(r.runs)],
      ["steps", steps(r.steps)],
    ]),
    "",
    table(
      c,
      ["WORKFLOW", "RUNS", "COMPLETED", "FAILED", "CANCELLED", "STEPS", "COMPLETED", "FAILED", "SKIPPED"],
      r.byWorkflow.map((b) => [
        b.workflowSlug,
        b.runs.total,
        percent(b.runs.successRate),
        percent(b.runs.failureRate),
        percent(b.runs.cancellationRate),
        b.steps.total,
        percent(b.steps.successRate),
        percent(b.steps.failureRate),
        percent(b.steps.skipRate),
      ]),
      [0],
    ),
  );
}

/** `analytics queue`: what waits now. */
export function renderQueue(r: { total: QueueDepth; byWorkflow?: QueueDepthByWorkflow }, c: RenderContext): string {
  const q = r.total;
  return lines(
    heading(c, "Queue now"),
    pairs([
      ["runs", `${q.pendingRuns} pending (${q.readyRuns} ready, ${q.delayedRuns} delayed), ${q.runningRuns} running`],
      [
        "steps",
        `${q.scheduledSteps} scheduled (${q.readySteps} ready, ${q.delayedSteps} delayed, ${q.waitingSteps} of them waiting), ${q.runningSteps} running`,
      ],
      [
        "oldest ready step",
        q.oldestReadyStepAvailableAtUs === null ? "none" : `waiting ${duration(q.oldestReadyStepAgeUs)}`,
      ],
      [
        "oldest pending run",
        q.oldestPendingRunCreatedAtUs === null ? "none" : `waiting ${duration(q.oldestPendingRunAgeUs)}`,
      ],
    ]),
    r.byWorkflow !== undefined && "",
    r.byWorkflow !== undefined &&
      table(
        c,
        ["WORKFLOW", "PENDING", "READY", "RUNNING", "STEPS READY", "STEPS DELAYED", "STEPS RUNNING", "OLDEST READY"],
        r.byWorkflow.map((b) => [
          b.workflowSlug,
          b.pendingRuns,
          b.readyRuns,
          b.runningRuns,
          b.readySteps,
          b.delayedSteps,
          b.runningSteps,
          b.oldestReadyStepAvailableAtUs === null ? "" : duration(b.oldestReadyStepAgeUs),
        ]),
        [0],
      ),
  );
}

/** `analytics summary`: every part in one page. */
export function renderSummary(r: AnalyticsSummary, c: RenderContext): string {
  const e = r.errorAnalysis;
  return lines(
    c.s.dim(`${time(r.window.startUs)} → ${time(r.window.endUs)}`),
    "",
    renderSuccess(r.successRate, c),
    "",
    renderThroughput(r.throughput, c),
    "",
    renderDurations({ steps: r.stepDuration, runs: r.workflowDuration }, c),
    "",
    renderLatency(r.schedulingLatency, c),
    "",
    renderRetries(r.retryAnalysis, c),
    "",
    heading(
      c,
      `Failures: ${e.totalFailures} (${e.terminalFailures} terminal, ${e.retriedFailures} retried) in ${e.affectedRuns} run${e.affectedRuns === 1 ? "" : "s"}`,
    ),
    table(
      c,
      ["REASON", "COUNT"],
      e.byReason.map((b) => [b.failureReason, b.count]),
    ),
    "",
    table(
      c,
      ["ERROR NAME", "COUNT"],
      e.byErrorName.map((b) => [b.errorName, b.count]),
    ),
    "",
    renderQueue({ total: r.queueDepth }, c),
  );
}
