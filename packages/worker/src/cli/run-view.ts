import {
  deserializeValue,
  HELD_AVAILABLE_AT_US,
  runWaitingOn,
  type CallRecord,
  type ChildStepRecord,
  type RunState,
  type RunUsage,
  type StepLink,
  type StepState,
} from "@cairn/backend-interface";
import type { Attempt } from "./attempts.js";
import { FOLDED_FRAMES, errorText } from "./error-text.js";
import { clip, duration, indent, percent, prettyJson, time, waitLabel } from "./format.js";
import { statusColor, type Styles } from "./styles.js";
import { renderTable, type Cell } from "./table.js";
import { renderCalls, renderLinks, renderUsage } from "./run-calls-view.js";
import { progressText } from "./progress-view.js";
import { childRows, childTree } from "./run-children-view.js";

/** Everything `cairn run` shows: the run, its steps and each step's attempts. */
export interface RunView {
  run: RunState;
  steps: StepState[];
  attempts: Map<string, Attempt[]>;
  /** The calls of every step, in the order they were recorded (absent: not loaded). */
  calls?: CallRecord[];
  /** The child steps (`ctx.step`) of every step, every attempt's, in the order they ended (absent: not loaded). */
  children?: ChildStepRecord[];
  /** The entities its steps touched, in link order (absent: not loaded). */
  links?: StepLink[];
  /** The run's AI usage (absent: not loaded). */
  usage?: RunUsage;
}

/** How a run view is drawn. */
export interface RunViewOptions {
  styles: Styles;
  columns: number | undefined;
  nowUs: number;
  /** Every stack frame instead of the first few. */
  verbose?: boolean;
}

/** The run's kind: its runType, trigger, and whether the standalone tracker recorded it (no worker runs its steps). */
function kindLine(run: RunState): string {
  return [
    run.runType ? `type ${run.runType}` : "",
    run.trigger ? `trigger ${run.trigger}` : "",
    run.tracked ? "tracked (recorded by a tracker, not run by a worker)" : "",
  ]
    .filter(Boolean)
    .join(" · ");
}

/** The run's header: id, workflow, status, times, tenant, tags, input, and its error in full. */
export function renderRunHeader(run: RunState, s: Styles): string {
  const row = (k: string, v: string) => `${s.dim(k.padEnd(10))}${v}`;
  return [
    row("run", s.bold(run.runId)),
    row("workflow", `${run.workflowSlug}${run.versionId ? ` (version ${run.versionId})` : ""}`),
    row(
      "status",
      `${statusColor(s, run.status)}${run.failureReason ? ` (${run.failureReason})` : ""}${run.failedStep ? ` at step ${run.failedStep}` : ""}`,
    ),
    row("created", time(run.createdAtUs)),
    ...(run.availableAtUs && run.availableAtUs > run.createdAtUs ? [row("starts", time(run.availableAtUs))] : []),
    ...(run.startedAtUs ? [row("started", time(run.startedAtUs))] : []),
    ...(run.durationUs !== undefined ? [row("duration", duration(run.durationUs))] : []),
    ...(run.tenantId !== undefined ? [row("tenant", run.tenantId)] : []),
    ...(run.runType !== undefined || run.trigger !== undefined || run.tracked ? [row("kind", kindLine(run))] : []),
    ...(run.tags.length ? [row("tags", run.tags.join(", "))] : []),
    ...(run.parentRunId ? [row("rerun of", `${run.parentRunId} from ${run.rerunFromStepId}`)] : []),
    ...(run.input !== undefined ? [row("input", clip(run.input, 200))] : []),
    ...(run.flowKey !== undefined || run.flow ? [row("flow", flowLine(run))] : []),
    ...(run.counters && Object.keys(run.counters).length
      ? [
          row(
            "counters",
            Object.entries(run.counters)
              .map(([k, n]) => `${k} ${n}`)
              .join(" · "),
          ),
        ]
      : []),
    ...(run.cancelReason ? [row("reason", run.cancelReason)] : []),
    ...(run.paused
      ? [
          row(
            "paused",
            `since ${time(run.paused.atUs)}${run.paused.scope === "workflow" ? " (its workflow is paused)" : ""}${run.paused.reason ? `: ${run.paused.reason}` : ""}; \`cairn resume\` continues it`,
          ),
        ]
      : []),
    ...(run.error ? [row("error", run.error.message)] : []),
    ...(run.inputValidation?.validationErrors?.map((e) => `${" ".repeat(10)}${e.path}: ${e.message}`) ?? []),
  ].join("\n");
}

/** What flow control decided for a run: its key, the last decision and why, the other run involved, until when. */
function flowLine(run: RunState): string {
  const key = run.flowKey ? `key ${JSON.stringify(run.flowKey)}` : "";
  const f = run.flow;
  const decision = f
    ? `${f.decision}: ${f.reason}${f.relatedRunId ? ` (run ${f.relatedRunId})` : ""}${f.untilUs ? ` until ${time(f.untilUs)}` : ""}`
    : "";
  return [key, decision].filter(Boolean).join("; ");
}

/**
 * One table of every step's attempts, in the order the steps started: attempt number, outcome, worker, start, duration
 * and a note (progress of a running attempt, skip reason, next retry); under a failed attempt its error name, full
 * message and stack (folded to a few frames unless `verbose`). A step that never ran has one row with its status.
 * Under a step, its child steps (`ctx.step`) as an indented tree: status, attempt, start, duration, calls, error.
 */
export function renderAttempts(v: RunView, o: RunViewOptions): string {
  const s = o.styles;
  const order = [...v.steps].sort((a, b) => (a.startTimeUs ?? a.createdAtUs) - (b.startTimeUs ?? b.createdAtUs));
  const rows: Cell[][] = [];
  for (const step of order) {
    const list = v.attempts.get(step.stepId) ?? [];
    if (list.length === 0) {
      rows.push([
        step.stepId,
        statusColor(s, step.status),
        "",
        "",
        "",
        "",
        step.status === "skipped"
          ? (step.skipReason ?? "")
          : step.availableAtUs
            ? `available ${time(step.availableAtUs)}`
            : "",
      ]);
      continue;
    }
    list.forEach((a, i) => {
      const took =
        a.durationUs ??
        (a.outcome === "running" && a.startedAtUs !== undefined ? Math.max(0, o.nowUs - a.startedAtUs) : undefined);
      rows.push([
        i === 0 ? step.stepId : "",
        statusColor(s, a.outcome),
        `#${a.attemptNumber}`,
        a.workerId ?? "",
        time(a.startedAtUs),
        duration(took),
        note(a, o.nowUs),
      ]);
      if (a.error && a.outcome !== "completed")
        rows.push([
          { content: s.red(indent(errorText(a.error, o.verbose ? Infinity : FOLDED_FRAMES), "    ")), colSpan: 7 },
        ]);
    });
    rows.push(...childRows(childTree(step.stepId, v.children ?? [], v.calls ?? []), s));
  }
  return renderTable(["STEP", "OUTCOME", "ATTEMPT", "WORKER", "STARTED", "DURATION", "NOTE"], rows, {
    columns: o.columns,
    shrink: [6, 3, 0],
    optional: [3, 4],
    wrap: true,
  });
}

function note(a: Attempt, nowUs: number): string {
  if (a.outcome === "running" && a.progress)
    return `${progressText(a.progress)} (${duration(Math.max(0, nowUs - a.progress.atUs))} ago)`;
  if (a.outcome === "completed" && a.progress?.items) return progressText(a.progress);
  if (a.outcome === "retried")
    return `${a.failureReason ?? ""}${a.nextRetryAtUs ? `, retry at ${time(a.nextRetryAtUs, true).slice(11)}` : ""}`;
  if (a.outcome === "failed") return a.failureReason ?? "";
  return a.note ?? "";
}

/** The whole `cairn run` page: header (with what a waiting run waits for), attempts, output. */
export function renderRun(v: RunView, o: RunViewOptions): string {
  const waiting = runWaitingOn(v.run, v.steps, o.nowUs);
  const header =
    renderRunHeader(v.run, o.styles) +
    (waiting
      ? `\n${o.styles.dim("waiting".padEnd(10))}${statusColor(o.styles, "waiting")}: step ${waiting.stepId} waits for ${waitLabel(waiting.waiting)}${waiting.waiting.untilUs === undefined || waiting.waiting.untilUs >= HELD_AVAILABLE_AT_US ? "" : ` until ${time(waiting.waiting.untilUs)}`}`
      : "");
  const parts = [header, renderAttempts(v, o)];
  const calls = renderCalls(v.calls ?? [], o);
  if (calls) parts.push(calls);
  const links = renderLinks(v.links ?? [], o);
  if (links) parts.push(links);
  const usage = v.usage ? renderUsage(v.usage, o.styles) : "";
  if (usage) parts.push(usage);
  if (v.run.output !== undefined) parts.push(`${o.styles.dim("output")}\n${prettyJson(v.run.output)}`);
  return `${parts.join("\n\n")}\n`;
}

/** `cairn run --json`: the run, and each step with its attempts (errors whole, stacks unfolded). */
export function runJson(v: RunView): unknown {
  return {
    run: { ...v.run, input: deserializeValue(v.run.input), output: deserializeValue(v.run.output) },
    steps: v.steps.map((st) => ({
      ...st,
      output: deserializeValue(st.output),
      attempts: v.attempts.get(st.stepId) ?? [],
      ...(v.calls ? { calls: v.calls.filter((c) => c.stepId === st.stepId) } : {}),
      ...(v.children
        ? {
            children: v.children
              .filter((c) => c.stepId === st.stepId)
              .map((c) => ({ ...c, output: deserializeValue(c.output) })),
          }
        : {}),
      ...(v.links ? { links: v.links.filter((l) => l.stepId === st.stepId) } : {}),
    })),
    ...(v.usage ? { usage: v.usage } : {}),
  };
}
