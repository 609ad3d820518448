import { html } from "hono/html";
import type { Event, StepState } from "@cairn/backend-interface";
import { formatDuration, formatTime, prettyJson, statusBadge, type Html } from "../html/format.js";
import type { StepAttempt } from "../html/step-attempts.js";

/** An error with its name, message and (folded) stack. */
export function errorBlock(e: { name?: string | undefined; message: string; stack?: string | undefined }): Html {
  const stack = e.stack
    ? html`<details>
        <summary>stack</summary>
        <pre class="stack">${e.stack}</pre>
      </details>`
    : "";
  return html`<div class="error">
    <strong>${e.name ?? "Error"}</strong>: <span class="error-text">${e.message}</span>${stack}
  </div>`;
}

/** A section with a serialised value, pretty-printed. */
export function valueBlock(title: string, text: string | undefined): Html {
  const value =
    text === undefined ? html`<p class="empty">none</p>` : html`<pre class="json">${prettyJson(text)}</pre>`;
  return html`<section>
    <h2>${title}</h2>
    ${value}
  </section>`;
}

function attemptRows(a: StepAttempt): Html {
  const waited =
    a.scheduledAtUs !== undefined && a.startUs !== undefined
      ? formatDuration(Math.max(0, a.startUs - a.scheduledAtUs))
      : "–";
  const ran = a.startUs !== undefined && a.endUs !== undefined ? formatDuration(a.endUs - a.startUs) : "–";
  const outcome = a.outcome === "retried" ? html`${statusBadge("failed")} (retried)` : statusBadge(a.outcome);
  return html`<tr data-attempt="${a.attempt}">
      <td>${a.attempt}</td>
      <td>${outcome}</td>
      <td>${waited}</td>
      <td>${ran}</td>
      <td>${a.workerId ?? ""}</td>
    </tr>
    ${
      a.error
        ? html`<tr class="attempt-error">
            <td></td>
            <td colspan="4">${errorBlock(a.error)}</td>
          </tr>`
        : ""
    }`;
}

function logLines(events: readonly Event[]): Html {
  const lines = events.flatMap((e) =>
    e.type === "LogEntry"
      ? [`[${formatTime(e.emittedAtUs ?? e.timestampUs)}] #${e.attemptNumber} ${e.stream}: ${e.message}\n`]
      : [],
  );
  return lines.length
    ? html`<pre class="logs" id="step-logs">${lines.join("")}</pre>`
    : html`<p class="empty">No log lines.</p>`;
}

function checkpointTable(events: readonly Event[]): Html {
  const rows = events.flatMap((e) =>
    e.type === "StepCheckpoint"
      ? [
          html`<tr>
            <td>${e.name}</td>
            <td>${e.sequenceNumber}</td>
            <td>${e.attemptNumber}</td>
            <td><code>${e.data.slice(0, 300)}</code></td>
          </tr>`,
        ]
      : [],
  );
  if (rows.length === 0) return html`<p class="empty">No checkpoints.</p>`;
  return html`<table class="grid" id="step-checkpoints">
    <thead>
      <tr>
        <th>name</th>
        <th>#</th>
        <th>attempt</th>
        <th>data</th>
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

/** One step's panel: its attempts (wait, run time, worker, error with stack), its logs, checkpoints and output. */
export function stepPanel(step: StepState, attempts: StepAttempt[], events: readonly Event[]): Html {
  const mine = events.filter((e) => e.category === "step" && e.stepId === step.stepId);
  return html`<section id="step-panel" data-step="${step.stepId}">
    <h2>Step <code>${step.stepId}</code> ${statusBadge(step.status)}</h2>
    <table class="grid attempts">
      <thead>
        <tr>
          <th>attempt</th>
          <th>outcome</th>
          <th>waited</th>
          <th>ran</th>
          <th>worker</th>
        </tr>
      </thead>
      <tbody>
        ${attempts.map(attemptRows)}
      </tbody>
    </table>
    ${step.skipReason ? html`<p>Skipped: ${step.skipReason}</p>` : ""}
    <h3>Logs</h3>
    ${logLines(mine)}
    <h3>Checkpoints</h3>
    ${checkpointTable(mine)} ${step.output !== undefined ? valueBlock("Step output", step.output) : ""}
  </section>`;
}
