import { html } from "hono/html";
import {
  WorkflowNotFoundError,
  type StepDefinition,
  type WorkflowMetadata,
  type WorkflowVersion,
} from "@cairn/backend-interface";
import { dagSvg } from "../html/dag-svg.js";
import { formatTime, type Html } from "../html/format.js";
import { layout } from "../html/layout.js";
import type { PageEnv } from "../page-env.js";

/** Registered workflows, with their live queue. */
export async function workflowsPage(env: PageEnv): Promise<Html> {
  const { backend, base } = env;
  const [workflows, queues] = await Promise.all([backend.listWorkflowMetadata(), backend.getQueueDepthByWorkflow()]);
  const q = new Map(queues.map((x) => [x.workflowSlug, x]));
  const row = (w: WorkflowMetadata): Html =>
    html`<tr data-workflow="${w.slug}">
      <td><a href="${base}/workflows/${w.slug}">${w.slug}</a></td>
      <td>${w.name}${w.description ? html`<br /><small>${w.description}</small>` : ""}</td>
      <td>${q.get(w.slug)?.pendingRuns ?? 0}</td>
      <td>${q.get(w.slug)?.runningRuns ?? 0}</td>
      <td>${formatTime(w.registeredAtUs)}</td>
    </tr>`;
  const table =
    workflows.length === 0
      ? html`<p class="empty">
          No workflow is registered. A worker registers the workflows it discovers when it starts.
        </p>`
      : html`<table class="grid" id="workflows">
          <thead>
            <tr>
              <th>workflow</th>
              <th>name</th>
              <th>pending</th>
              <th>running</th>
              <th>registered</th>
            </tr>
          </thead>
          <tbody>
            ${workflows.map(row)}
          </tbody>
        </table>`;
  return layout(env, {
    title: "Workflows",
    active: "workflows",
    body: html`<h1>Workflows</h1>
      ${table}`,
  });
}

function stepsTable(steps: readonly StepDefinition[]): Html {
  const row = (s: StepDefinition): Html =>
    html`<tr>
      <td>${s.id}</td>
      <td>${s.dependencies.join(", ") || "–"}</td>
      <td>${s.retry?.maxRetries ?? s.maxRetries ?? 0}</td>
      <td>${s.timeoutMs ? `${s.timeoutMs} ms` : "–"}</td>
      <td>${s.exportOutput ? "yes" : ""}</td>
    </tr>`;
  return html`<table class="grid" id="steps">
    <thead>
      <tr>
        <th>step</th>
        <th>depends on</th>
        <th>retries</th>
        <th>timeout</th>
        <th>exported</th>
      </tr>
    </thead>
    <tbody>
      ${steps.map(row)}
    </tbody>
  </table>`;
}

function versionsTable(versions: readonly WorkflowVersion[], current: string | undefined): Html {
  if (versions.length === 0) return html`<p class="empty">No versions recorded.</p>`;
  const row = (v: WorkflowVersion): Html => html`<tr${v.versionId === current ? html` class="current"` : ""}>
<td><code>${v.versionId}</code>${v.versionId === current ? " (current)" : ""}</td><td>${formatTime(v.createdAtUs)}</td>
<td>${v.steps.length}</td></tr>`;
  return html`<table class="grid" id="versions">
    <thead>
      <tr>
        <th>version</th>
        <th>created</th>
        <th>steps</th>
      </tr>
    </thead>
    <tbody>
      ${versions.map(row)}
    </tbody>
  </table>`;
}

/** One workflow: its steps as a DAG, its versions, its input JSON Schema. */
export async function workflowPage(env: PageEnv, slug: string): Promise<Html> {
  const { backend, base } = env;
  const meta = await backend.getWorkflowMetadata(slug);
  if (!meta) throw new WorkflowNotFoundError(slug);
  const [steps, versions] = await Promise.all([
    backend.getWorkflowSteps(slug),
    backend.listWorkflowVersions(slug, { limit: 20 }),
  ]);
  const schema =
    meta.inputSchemaJSON === undefined
      ? html`<p class="empty">No input schema.</p>`
      : html`<pre class="json" id="input-schema">${JSON.stringify(meta.inputSchemaJSON, null, 2)}</pre>`;
  const body = html`<p class="crumbs"><a href="${base}/workflows">Workflows</a></p>
    <h1>
      ${meta.name} <small><code>${meta.slug}</code></small>
    </h1>
    ${meta.description ? html`<p>${meta.description}</p>` : ""}
    <p><a href="${base}/runs?workflow=${slug}">Runs of this workflow »</a></p>
    <section>
      <h2>Steps</h2>
      <div id="dag">${dagSvg(steps)}</div>
      ${stepsTable(steps)}
    </section>
    <section>
      <h2>Versions</h2>
      ${versionsTable(versions, meta.versionId)}
    </section>
    <section>
      <h2>Input schema</h2>
      ${schema}
    </section>`;
  return layout(env, { title: meta.name, active: "workflows", body });
}
