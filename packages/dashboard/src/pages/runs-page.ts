import { html } from "hono/html";
import type { RunState } from "@cairn/backend-interface";
import { checkbox, options } from "../html/form-controls.js";
import { formatAgo, formatDuration, statusBadge, type Html } from "../html/format.js";
import { layout } from "../html/layout.js";
import { filterQuery, isNarrowed, RUN_STATUSES, TIME_RANGES, type RunFilter } from "../run-filter.js";
import { listRunsPage } from "../runs-query.js";
import type { PageEnv } from "../page-env.js";

function runRow(env: PageEnv, r: RunState, now: number): Html {
  const { base } = env;
  const owner = r.tenantId ?? (typeof r.metadata?.tenant === "string" ? r.metadata.tenant : undefined);
  const tenant = owner !== undefined ? html`<span class="tag tenant">tenant ${owner}</span>` : "";
  const duration = r.durationUs ?? (r.startedAtUs ? now - r.startedAtUs : undefined);
  return html`<tr data-run="${r.runId}" data-status="${r.status}">
    <td>
      <a href="${base}/runs/${r.runId}"><code>${r.runId}</code></a>
    </td>
    <td><a href="${base}/workflows/${r.workflowSlug}">${r.workflowSlug}</a></td>
    <td>${statusBadge(r.status)}</td>
    <td title="${new Date(r.createdAtUs / 1000).toISOString()}">${formatAgo(r.createdAtUs, now)}</td>
    <td>${formatDuration(duration)}</td>
    <td>${r.tags.map((t) => html`<span class="tag">${t}</span>`)}${tenant}</td>
  </tr>`;
}

/** The table of one page of runs: also served alone (`fragment=table`) for the live refresh. */
export async function runsTable(env: PageEnv, f: RunFilter, live: boolean): Promise<Html> {
  const { base } = env;
  const now = env.nowUs();
  const page = await listRunsPage(env.backend, f, now);
  const link = (q: string): string => `${base}/runs?${q}`;
  const self = link(filterQuery(f, { keepLimit: true, ...(f.cursor ? { cursor: f.cursor } : {}) }));
  const poll = live ? html` hx-get="${self}&fragment=table" hx-trigger="every 3s" hx-swap="outerHTML"` : "";
  const rows = page.runs.length
    ? page.runs.map((r) => runRow(env, r, now))
    : html`<tr>
        <td colspan="6" class="empty">No run matches this filter.</td>
      </tr>`;
  const newest = f.cursor
    ? html`<a href="${link(filterQuery(f, { keepLimit: true }))}" id="first-page">« newest</a>`
    : "";
  const older = page.next
    ? html`<a href="${link(filterQuery(f, { keepLimit: true, cursor: page.next }))}" id="next-page" rel="next"
        >older »</a
      >`
    : "";
  const truncated = page.truncated
    ? html`<span class="hint">only part of the store was searched for this tenant; narrow the filter</span>`
    : "";
  return html`<div id="runs-table" ${poll}>
    <table class="grid runs">
      <thead>
        <tr>
          <th>run</th>
          <th>workflow</th>
          <th>status</th>
          <th>created</th>
          <th>duration</th>
          <th>tags</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
    <nav class="pager">${newest} ${older} ${truncated}</nav>
  </div>`;
}

function bulkLinks(env: PageEnv, f: RunFilter): Html | string {
  if (env.readOnly) return "";
  const q = filterQuery(f);
  const href = (action: string): string => `${env.base}/bulk/confirm?action=${action}${q ? `&${q}` : ""}`;
  const rerun = f.workflow
    ? html`<a class="button" id="bulk-rerun" href="${href("rerun")}">rerun…</a>`
    : html`<span class="hint">pick a workflow to rerun its runs in bulk</span>`;
  return html`<div class="bulk">
    Bulk, for every run this filter selects:
    <a class="button" id="bulk-cancel" href="${href("cancel")}">cancel…</a> ${rerun}
  </div>`;
}

/** The runs page: the filter form, the table (live-refreshed when asked), paging, and the bulk actions of the filter. */
export async function runsPage(env: PageEnv, f: RunFilter, live: boolean): Promise<Html> {
  const { base } = env;
  const workflows = await env.backend.listWorkflowMetadata();
  const table = await runsTable(env, f, live);
  const statuses = RUN_STATUSES.map((s) => checkbox("status", s, f.status.includes(s), s));
  const slugs = options(
    workflows.map((w) => w.slug),
    f.workflow,
  );
  const ranges = options(Object.keys(TIME_RANGES), f.since, (k) => `last ${k}`);
  const body = html`<h1>Runs</h1>
    <form class="filters" method="get" action="${base}/runs" id="run-filters">
      <label
        >workflow
        <select name="workflow">
          <option value="">any</option>
          ${slugs}
        </select></label
      >
      <fieldset class="statuses">
        <legend>status</legend>
        ${statuses}
      </fieldset>
      <label>tag <input name="tag" value="${f.tag ?? ""}" size="10" /></label>
      <label>tenant <input name="tenant" value="${f.tenant ?? ""}" size="10" /></label>
      <label
        >created
        <select name="since">
          <option value="">any time</option>
          ${ranges}
        </select></label
      >
      ${checkbox("live", "1", live, "live", html` id="live" data-autosubmit`)}
      <button type="submit" id="apply-filter">Apply</button>
      ${isNarrowed(f) ? html`<a href="${base}/runs">clear</a>` : ""}
    </form>
    ${bulkLinks(env, f)} ${table}`;
  return layout(env, { title: "Runs", active: "runs", body });
}
