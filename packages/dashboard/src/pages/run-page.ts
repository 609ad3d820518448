import { html } from "hono/html";
import { RunNotFoundError, isTerminalRunStatus, type Event, type RunState, type StepState } from "@cairn/backend-interface";
import { formatDuration, formatTime, prettyJson, statusBadge, type Html } from "../html/format.js";
import { layout } from "../html/layout.js";
import { stepAttempts, type StepAttempt } from "../html/step-attempts.js";
import { timelineSvg } from "../html/timeline.js";
import type { PageEnv } from "../page-env.js";

/** Most raw events the page lists (the rest are counted). */
const MAX_RAW_EVENTS = 2000;

/** The run detail page: status, input, output, error, the step timeline, the chosen step's panel, actions, raw events. */
export async function runPage(env: PageEnv, runId: string, selected: string | undefined, notice?: string): Promise<Html> {
  const { backend, base } = env;
  const run = await backend.getRun(runId);
  if (!run) throw new RunNotFoundError(runId);
  const [steps, events] = await Promise.all([backend.loadRun(run.workflowSlug, runId), backend.loadEvents(run.workflowSlug, runId)]);
  const attempts = stepAttempts(events);
  const now = env.nowUs();
  const chosen = steps.find((s) => s.stepId === selected) ?? steps.find((s) => s.status === "failed") ?? undefined;
  const body = html`<p class="crumbs"><a href="${base}/runs">Runs</a> › <a href="${base}/runs?workflow=${run.workflowSlug}">${run.workflowSlug}</a></p>
<h1>Run <code id="run-id">${run.runId}</code> <span id="run-status">${statusBadge(run.status)}</span></h1>
${notice ? html`<p class="notice" id="notice">${notice}</p>` : ""}
${summary(env, run, now)}
${env.readOnly ? "" : actions(env, run, steps)}
<section><h2>Timeline</h2>${timelineSvg(attempts, { nowUs: now, selected: chosen?.stepId, stepHref: (s) => `${base}/runs/${run.runId}?step=${encodeURIComponent(s)}#step-panel` })}</section>
<section class="steps"><h2>Steps</h2><table class="grid"><thead><tr><th>step</th><th>status</th><th>attempts</th><th>duration</th><th>worker</th></tr></thead><tbody>
${steps.map((s) => html`<tr data-step="${s.stepId}"><td><a href="${base}/runs/${run.runId}?step=${encodeURIComponent(s.stepId)}#step-panel">${s.stepId}</a></td><td>${statusBadge(s.status)}</td><td>${s.attemptNumber}</td><td>${formatDuration(s.durationUs)}</td><td>${s.claimedBy ?? ""}</td></tr>`)}
</tbody></table></section>
${chosen ? stepPanel(chosen, attempts.filter((a) => a.stepId === chosen.stepId), events) : ""}
${valueBlock("Input", run.input)}
${run.output !== undefined ? valueBlock("Output", run.output) : ""}
${run.error ? html`<section id="run-error"><h2>Error</h2>${errorBlock(run.error)}</section>` : ""}
<section><details id="raw-events"><summary>Raw event log (${events.length} events)</summary><pre class="events">${events.slice(0, MAX_RAW_EVENTS).map((e) => `${JSON.stringify(e)}\n`).join("")}${events.length > MAX_RAW_EVENTS ? `… ${events.length - MAX_RAW_EVENTS} more\n` : ""}</pre></details></section>`;
  return layout(env, { title: `Run ${run.runId}`, active: "runs", body });
}

function summary(env: PageEnv, run: RunState, now: number): Html {
  const { base } = env;
  const item = (k: string, v: unknown): Html => html`<dt>${k}</dt><dd>${v}</dd>`;
  return html`<dl class="summary">
${item("workflow", html`<a href="${base}/workflows/${run.workflowSlug}">${run.workflowSlug}</a>`)}
${item("created", formatTime(run.createdAtUs))}${item("started", formatTime(run.startedAtUs))}${item("ended", formatTime(run.endedAtUs))}
${item("duration", formatDuration(run.durationUs ?? (run.startedAtUs && !isTerminalRunStatus(run.status) ? now - run.startedAtUs : undefined)))}
${item("attempt", run.workflowAttemptNumber)}
${run.versionId ? item("version", html`<code>${run.versionId}</code>`) : ""}
${run.parentRunId ? item("rerun of", html`<a href="${base}/runs/${run.parentRunId}">${run.parentRunId}</a> from ${run.rerunFromStepId ?? ""}`) : ""}
${run.failureReason ? item("failure", `${run.failureReason}${run.failedStep ? ` at ${run.failedStep}` : ""}`) : ""}
${run.cancelReason ? item("cancel reason", run.cancelReason) : ""}
${run.tags.length ? item("tags", run.tags.map((t) => html`<span class="tag">${t}</span>`)) : ""}
${run.metadata ? item("metadata", html`<code>${JSON.stringify(run.metadata)}</code>`) : ""}
</dl>`;
}

function actions(env: PageEnv, run: RunState, steps: StepState[]): Html {
  const { base } = env;
  const open = !isTerminalRunStatus(run.status);
  return html`<section class="actions" id="run-actions">
${open ? html`<a class="button danger" id="action-cancel" href="${base}/runs/${run.runId}/confirm?action=cancel">Cancel run…</a>` : ""}
${run.status === "failed" ? html`<a class="button" id="action-retry" href="${base}/runs/${run.runId}/confirm?action=retry">Retry failed steps…</a>` : ""}
${steps.length ? html`<form method="get" action="${base}/runs/${run.runId}/confirm" class="inline" id="rerun-form"><input type="hidden" name="action" value="rerun">
<label>rerun from <select name="step">${steps.map((s) => html`<option value="${s.stepId}">${s.stepId}</option>`)}</select></label> <button type="submit" id="action-rerun">Rerun…</button></form>` : ""}
</section>`;
}

function stepPanel(step: StepState, attempts: StepAttempt[], events: readonly Event[]): Html {
  const mine = events.filter((e) => e.category === "step" && e.stepId === step.stepId);
  const logs = mine.filter((e) => e.type === "LogEntry");
  const checkpoints = mine.filter((e) => e.type === "StepCheckpoint");
  return html`<section id="step-panel" data-step="${step.stepId}"><h2>Step <code>${step.stepId}</code> ${statusBadge(step.status)}</h2>
<table class="grid attempts"><thead><tr><th>attempt</th><th>outcome</th><th>waited</th><th>ran</th><th>worker</th></tr></thead><tbody>
${attempts.map((a) => html`<tr data-attempt="${a.attempt}"><td>${a.attempt}</td><td>${statusBadge(a.outcome === "retried" ? "failed" : a.outcome)} ${a.outcome === "retried" ? "(retried)" : ""}</td>
<td>${a.scheduledAtUs !== undefined && a.startUs !== undefined ? formatDuration(Math.max(0, a.startUs - a.scheduledAtUs)) : "–"}</td><td>${a.startUs !== undefined && a.endUs !== undefined ? formatDuration(a.endUs - a.startUs) : "–"}</td><td>${a.workerId ?? ""}</td></tr>
${a.error ? html`<tr class="attempt-error"><td></td><td colspan="4">${errorBlock(a.error)}</td></tr>` : ""}`)}
</tbody></table>
${step.skipReason ? html`<p>Skipped: ${step.skipReason}</p>` : ""}
<h3>Logs</h3>${logs.length ? html`<pre class="logs" id="step-logs">${logs.map((e) => e.type === "LogEntry" ? `[${formatTime(e.timestampUs)}] #${e.attemptNumber} ${e.stream}: ${e.message}\n` : "").join("")}</pre>` : html`<p class="empty">No log lines.</p>`}
<h3>Checkpoints</h3>${checkpoints.length ? html`<table class="grid" id="step-checkpoints"><thead><tr><th>name</th><th>#</th><th>attempt</th><th>data</th></tr></thead><tbody>${checkpoints.map((e) => e.type === "StepCheckpoint" ? html`<tr><td>${e.name}</td><td>${e.sequenceNumber}</td><td>${e.attemptNumber}</td><td><code>${e.data.slice(0, 300)}</code></td></tr>` : "")}</tbody></table>` : html`<p class="empty">No checkpoints.</p>`}
${step.output !== undefined ? valueBlock("Step output", step.output) : ""}
</section>`;
}

function errorBlock(e: { name?: string | undefined; message: string; stack?: string | undefined }): Html {
  return html`<div class="error"><strong>${e.name ?? "Error"}</strong>: <span class="error-text">${e.message}</span>${e.stack ? html`<details><summary>stack</summary><pre class="stack">${e.stack}</pre></details>` : ""}</div>`;
}

function valueBlock(title: string, text: string | undefined): Html {
  return html`<section><h2>${title}</h2>${text === undefined ? html`<p class="empty">none</p>` : html`<pre class="json">${prettyJson(text)}</pre>`}</section>`;
}
