import { html } from "hono/html";
import type { LiveWorkerInfo } from "@cairn/backend-interface";
import { formatAgo, statusBadge, type Html } from "../html/format.js";
import { layout } from "../html/layout.js";
import type { PageEnv } from "../page-env.js";

const stateOf = (w: LiveWorkerInfo): string => (w.isActive ? "active" : w.stoppedAtUs ? "stopped" : "stale");

function workerRow(env: PageEnv, w: LiveWorkerInfo, now: number): Html {
  const steps = w.currentSteps.map(
    (s) =>
      html`<a href="${env.base}/runs/${s.runId}?step=${encodeURIComponent(s.stepId)}#step-panel"
          >${s.workflowSlug}/${s.stepId} #${s.attemptNumber}</a
        ><br />`,
  );
  return html`<tr data-worker="${w.workerId}" data-state="${stateOf(w)}">
    <td>
      <code>${w.workerId}</code>${w.workflows?.length ? html`<br /><small>${w.workflows.join(", ")}</small>` : ""}
    </td>
    <td>${statusBadge(stateOf(w))}</td>
    <td>${w.host ?? ""}${w.pid ? ` (pid ${w.pid})` : ""}</td>
    <td>${w.concurrency ?? "?"}</td>
    <td>${w.runningSteps}</td>
    <td>${formatAgo(w.lastSeenUs, now)}</td>
    <td>${steps}</td>
  </tr>`;
}

/** Workers seen in the last 24 h: alive, stale or stopped, concurrency, and the steps each runs now. */
export async function workersPage(env: PageEnv): Promise<Html> {
  const now = env.nowUs();
  // Backend layers worker presence over the step-event figures, so every worker it lists carries its presence fields.
  const workers = (await env.backend.getActiveWorkers({ includeInactive: true })) as LiveWorkerInfo[];
  const table =
    workers.length === 0
      ? html`<p class="empty">No worker seen in the last 24 hours.</p>`
      : html`<table class="grid" id="workers">
          <thead>
            <tr>
              <th>worker</th>
              <th>state</th>
              <th>host</th>
              <th>concurrency</th>
              <th>running</th>
              <th>last seen</th>
              <th>current steps</th>
            </tr>
          </thead>
          <tbody>
            ${workers.map((w) => workerRow(env, w, now))}
          </tbody>
        </table>`;
  return layout(env, {
    title: "Workers",
    active: "workers",
    body: html`<h1>Workers</h1>
      ${table}`,
  });
}
