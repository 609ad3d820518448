import { html } from "hono/html";
import {
  RunNotFoundError,
  isTerminalRunStatus,
  type Event,
  type RunState,
  type StepState,
} from "@cairn/backend-interface";
import { formatDuration, formatTime, statusBadge, type Html } from "../html/format.js";
import { layout } from "../html/layout.js";
import { stepAttempts } from "../html/step-attempts.js";
import { timelineSvg } from "../html/timeline.js";
import type { PageEnv } from "../page-env.js";
import { errorBlock, stepPanel, valueBlock } from "./step-panel.js";

/** Most raw events the page lists (the rest are counted). */
const MAX_RAW_EVENTS = 2000;

/** The run detail page: status, input, output, error, the step timeline, the chosen step's panel, actions, raw events. */
export async function runPage(
  env: PageEnv,
  runId: string,
  selected: string | undefined,
  notice?: string,
): Promise<Html> {
  const { backend, base } = env;
  const run = await backend.getRun(runId);
  if (!run) throw new RunNotFoundError(runId);
  const [steps, events] = await Promise.all([
    backend.loadRun(run.workflowSlug, runId),
    backend.loadEvents(run.workflowSlug, runId),
  ]);
  const attempts = stepAttempts(events);
  const now = env.nowUs();
  const chosen = steps.find((s) => s.stepId === selected) ?? steps.find((s) => s.status === "failed");
  const stepHref = (stepId: string): string =>
    `${base}/runs/${run.runId}?step=${encodeURIComponent(stepId)}#step-panel`;
  const stepRow = (s: StepState): Html =>
    html`<tr data-step="${s.stepId}">
      <td><a href="${stepHref(s.stepId)}">${s.stepId}</a></td>
      <td>${statusBadge(s.status)}</td>
      <td>${s.attemptNumber}</td>
      <td>${formatDuration(s.durationUs)}</td>
      <td>${s.claimedBy ?? ""}</td>
    </tr>`;
  const body = html`<p class="crumbs">
      <a href="${base}/runs">Runs</a> › <a href="${base}/runs?workflow=${run.workflowSlug}">${run.workflowSlug}</a>
    </p>
    <h1>Run <code id="run-id">${run.runId}</code> <span id="run-status">${statusBadge(run.status)}</span></h1>
    ${notice ? html`<p class="notice" id="notice">${notice}</p>` : ""} ${summary(env, run, now)}
    ${env.readOnly ? "" : actions(env, run, steps)}
    <section>
      <h2>Timeline</h2>
      ${timelineSvg(attempts, { nowUs: now, selected: chosen?.stepId, stepHref })}
    </section>
    <section class="steps">
      <h2>Steps</h2>
      <table class="grid">
        <thead>
          <tr>
            <th>step</th>
            <th>status</th>
            <th>attempts</th>
            <th>duration</th>
            <th>worker</th>
          </tr>
        </thead>
        <tbody>
          ${steps.map(stepRow)}
        </tbody>
      </table>
    </section>
    ${
      chosen
        ? stepPanel(
            chosen,
            attempts.filter((a) => a.stepId === chosen.stepId),
            events,
          )
        : ""
    }
    ${valueBlock("Input", run.input)} ${run.output !== undefined ? valueBlock("Output", run.output) : ""}
    ${
      run.error
        ? html`<section id="run-error">
            <h2>Error</h2>
            ${errorBlock(run.error)}
          </section>`
        : ""
    }
    ${rawEvents(events)}`;
  return layout(env, { title: `Run ${run.runId}`, active: "runs", body });
}

function rawEvents(events: readonly Event[]): Html {
  const text = events
    .slice(0, MAX_RAW_EVENTS)
    .map((e) => `${JSON.stringify(e)}\n`)
    .join("");
  const more = events.length > MAX_RAW_EVENTS ? `… ${events.length - MAX_RAW_EVENTS} more\n` : "";
  return html`<section>
    <details id="raw-events">
      <summary>Raw event log (${events.length} events)</summary>
      <pre class="events">${text}${more}</pre>
    </details>
  </section>`;
}

function summary(env: PageEnv, run: RunState, now: number): Html {
  const { base } = env;
  const item = (k: string, v: unknown): Html =>
    html`<dt>${k}</dt>
      <dd>${v}</dd>`;
  const live = run.startedAtUs && !isTerminalRunStatus(run.status) ? now - run.startedAtUs : undefined;
  const parent = run.parentRunId
    ? item(
        "rerun of",
        html`<a href="${base}/runs/${run.parentRunId}">${run.parentRunId}</a> from ${run.rerunFromStepId ?? ""}`,
      )
    : "";
  return html`<dl class="summary">
    ${item("workflow", html`<a href="${base}/workflows/${run.workflowSlug}">${run.workflowSlug}</a>`)}
    ${item("created", formatTime(run.createdAtUs))}${item("started", formatTime(run.startedAtUs))}
    ${item("ended", formatTime(run.endedAtUs))}${item("duration", formatDuration(run.durationUs ?? live))}
    ${item("attempt", run.workflowAttemptNumber)}
    ${run.versionId ? item("version", html`<code>${run.versionId}</code>`) : ""} ${parent}
    ${run.failureReason ? item("failure", `${run.failureReason}${run.failedStep ? ` at ${run.failedStep}` : ""}`) : ""}
    ${run.cancelReason ? item("cancel reason", run.cancelReason) : ""}
    ${
      run.tags.length
        ? item(
            "tags",
            run.tags.map((t) => html`<span class="tag">${t}</span>`),
          )
        : ""
    }
    ${run.metadata ? item("metadata", html`<code>${JSON.stringify(run.metadata)}</code>`) : ""}
  </dl>`;
}

function actions(env: PageEnv, run: RunState, steps: StepState[]): Html {
  const confirm = `${env.base}/runs/${run.runId}/confirm`;
  const cancel = isTerminalRunStatus(run.status)
    ? ""
    : html`<a class="button danger" id="action-cancel" href="${confirm}?action=cancel">Cancel run…</a>`;
  const retry =
    run.status === "failed"
      ? html`<a class="button" id="action-retry" href="${confirm}?action=retry">Retry failed steps…</a>`
      : "";
  const options = steps.map((s) => html`<option value="${s.stepId}">${s.stepId}</option>`);
  const rerun = steps.length
    ? html`<form method="get" action="${confirm}" class="inline" id="rerun-form">
        <input type="hidden" name="action" value="rerun" />
        <label
          >rerun from
          <select name="step">
            ${options}
          </select></label
        >
        <button type="submit" id="action-rerun">Rerun…</button>
      </form>`
    : "";
  return html`<section class="actions" id="run-actions">${cancel} ${retry} ${rerun}</section>`;
}
