import { html } from "hono/html";
import type { RunState } from "@cairn/backend-interface";
import { formatAgo, formatDuration, statusBadge, type Html } from "../html/format.js";
import { layout } from "../html/layout.js";
import { filterQuery, isNarrowed, RUN_STATUSES, TIME_RANGES, type RunFilter } from "../run-filter.js";
import { listRunsPage } from "../runs-query.js";
import type { PageEnv } from "../page-env.js";

/** The table of one page of runs: also served alone (`fragment=table`) for the live refresh. */
export async function runsTable(env: PageEnv, f: RunFilter, live: boolean): Promise<Html> {
  const { base } = env;
  const now = env.nowUs();
  const page = await listRunsPage(env.backend, f, now);
  const self = `${base}/runs?${filterQuery(f, { keepLimit: true, ...(f.cursor ? { cursor: f.cursor } : {}) })}`;
  const poll = live ? html` hx-get="${self}&fragment=table" hx-trigger="every 3s" hx-swap="outerHTML"` : "";
  const row = (r: RunState): Html => html`<tr data-run="${r.runId}" data-status="${r.status}">
<td><a href="${base}/runs/${r.runId}"><code>${r.runId}</code></a></td>
<td><a href="${base}/workflows/${r.workflowSlug}">${r.workflowSlug}</a></td>
<td>${statusBadge(r.status)}</td>
<td title="${new Date(r.createdAtUs / 1000).toISOString()}">${formatAgo(r.createdAtUs, now)}</td>
<td>${formatDuration(r.durationUs ?? (r.startedAtUs ? now - r.startedAtUs : undefined))}</td>
<td>${r.tags.map((t) => html`<span class="tag">${t}</span>`)}${typeof r.metadata?.tenant === "string" ? html`<span class="tag tenant">tenant ${r.metadata.tenant}</span>` : ""}</td>
</tr>`;
  return html`<div id="runs-table"${poll}>
<table class="grid runs"><thead><tr><th>run</th><th>workflow</th><th>status</th><th>created</th><th>duration</th><th>tags</th></tr></thead>
<tbody>${page.runs.length ? page.runs.map(row) : html`<tr><td colspan="6" class="empty">No run matches this filter.</td></tr>`}</tbody></table>
<nav class="pager">${f.cursor ? html`<a href="${base}/runs?${filterQuery(f, { keepLimit: true })}" id="first-page">« newest</a>` : ""}
${page.next ? html`<a href="${base}/runs?${filterQuery(f, { keepLimit: true, cursor: page.next })}" id="next-page" rel="next">older »</a>` : ""}
${page.truncated ? html`<span class="hint">only the newest runs were searched; narrow the filter to see older ones</span>` : ""}</nav>
</div>`;
}

/** The runs page: the filter form, the table (live-refreshed when asked), paging, and the bulk actions of the filter. */
export async function runsPage(env: PageEnv, f: RunFilter, live: boolean): Promise<Html> {
  const { base } = env;
  const workflows = await env.backend.listWorkflowMetadata();
  const table = await runsTable(env, f, live);
  const q = filterQuery(f);
  const body = html`<h1>Runs</h1>
<form class="filters" method="get" action="${base}/runs" id="run-filters">
  <label>workflow <select name="workflow"><option value="">any</option>${workflows.map((w) => html`<option value="${w.slug}"${w.slug === f.workflow ? " selected" : ""}>${w.slug}</option>`)}</select></label>
  <fieldset class="statuses"><legend>status</legend>${RUN_STATUSES.map((s) => html`<label><input type="checkbox" name="status" value="${s}"${f.status.includes(s) ? " checked" : ""}> ${s}</label>`)}</fieldset>
  <label>tag <input name="tag" value="${f.tag ?? ""}" size="10"></label>
  <label>tenant <input name="tenant" value="${f.tenant ?? ""}" size="10"></label>
  <label>created <select name="since"><option value="">any time</option>${Object.keys(TIME_RANGES).map((k) => html`<option value="${k}"${k === f.since ? " selected" : ""}>last ${k}</option>`)}</select></label>
  <label><input type="checkbox" name="live" value="1" id="live" data-autosubmit${live ? " checked" : ""}> live</label>
  <button type="submit" id="apply-filter">Apply</button>
  ${isNarrowed(f) ? html`<a href="${base}/runs">clear</a>` : ""}
</form>
${env.readOnly ? "" : html`<div class="bulk">Bulk, for every run this filter selects:
  <a class="button" id="bulk-cancel" href="${base}/bulk/confirm?action=cancel${q ? `&${q}` : ""}">cancel…</a>
  ${f.workflow ? html`<a class="button" id="bulk-rerun" href="${base}/bulk/confirm?action=rerun${q ? `&${q}` : ""}">rerun…</a>` : html`<span class="hint">pick a workflow to rerun its runs in bulk</span>`}
</div>`}
${table}`;
  return layout(env, { title: "Runs", active: "runs", body });
}
