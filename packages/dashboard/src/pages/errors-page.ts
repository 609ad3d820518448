import { html } from "hono/html";
import { GROUPING_STRATEGIES, type ErrorGroup, type GroupingStrategy } from "@cairn/backend-interface";
import { options } from "../html/form-controls.js";
import { formatAgo, formatTime, type Html } from "../html/format.js";
import { layout } from "../html/layout.js";
import { bucketCounts, sparklineSvg } from "../html/sparkline.js";
import type { PageEnv } from "../page-env.js";

const DAY_US = 86_400_000_000;
/** Groups per page of the list. */
const GROUPS = 20;
/** Occurrences read per group for its sparkline. */
const SPARK_OCCURRENCES = 500;

function strategyForm(strategy: GroupingStrategy, action: string): Html {
  return html`<form method="get" action="${action}" class="filters" id="strategy-form">
    <label
      >grouping
      <select name="strategy" data-autosubmit>
        ${options(GROUPING_STRATEGIES, strategy)}
      </select></label
    >
    <noscript><button>Apply</button></noscript>
  </form>`;
}

function groupRow(env: PageEnv, g: ErrorGroup, strategy: GroupingStrategy, spark: number[], now: number): Html {
  return html`<tr data-fingerprint="${g.fingerprint}">
    <td>
      <a href="${env.base}/errors/${g.fingerprint}?strategy=${strategy}"
        ><code>${g.errorName}</code> ${g.errorMessage.slice(0, 200)}</a
      >
    </td>
    <td class="count">${g.count}</td>
    <td>${g.affectedRuns}</td>
    <td>${formatAgo(g.firstSeen, now)}</td>
    <td>${formatAgo(g.lastSeen, now)}</td>
    <td>${sparklineSvg(spark, `${g.count} occurrences over 24 h`)}</td>
  </tr>`;
}

/** Error groups of the last 24 h by fingerprint: message, count, affected runs, first/last seen, an hourly sparkline. */
export async function errorsPage(env: PageEnv, strategy: GroupingStrategy, offset: number): Promise<Html> {
  const { backend, base } = env;
  const now = env.nowUs();
  const timeRange = { start: now - DAY_US, end: now };
  const list = await backend.getErrorsList({ groupingStrategy: strategy, limit: GROUPS, offset, timeRange });
  const sparks = await Promise.all(
    list.errors.map(async (g) => {
      const d = await backend.getErrorDetail(g.fingerprint, strategy, { limit: SPARK_OCCURRENCES, timeRange });
      return bucketCounts(
        d.occurrences.map((o) => o.timestampUs),
        timeRange.start,
        timeRange.end,
        24,
      );
    }),
  );
  const table =
    list.errors.length === 0
      ? html`<p class="empty">No failures in the last 24 hours.</p>`
      : html`<table class="grid" id="error-groups">
          <thead>
            <tr>
              <th>error</th>
              <th>count</th>
              <th>runs</th>
              <th>first seen</th>
              <th>last seen</th>
              <th>activity</th>
            </tr>
          </thead>
          <tbody>
            ${list.errors.map((g, i) => groupRow(env, g, strategy, sparks[i] ?? [], now))}
          </tbody>
        </table>`;
  const page = (o: number): string => `${base}/errors?strategy=${strategy}&offset=${o}`;
  const previous = offset > 0 ? html`<a href="${page(Math.max(0, offset - GROUPS))}">« previous</a>` : "";
  const next = offset + GROUPS < list.total ? html`<a href="${page(offset + GROUPS)}">next »</a>` : "";
  const body = html`<h1>Error groups <small>(last 24 h)</small></h1>
    ${strategyForm(strategy, `${base}/errors`)} ${table}
    <nav class="pager">${previous} ${next}</nav>`;
  return layout(env, { title: "Errors", active: "errors", body });
}

/** One error group: its sample and stack, and its occurrences, each linking to its run. */
export async function errorPage(
  env: PageEnv,
  fingerprint: string,
  strategy: GroupingStrategy,
  offset: number,
): Promise<Html> {
  const { backend, base } = env;
  const now = env.nowUs();
  const d = await backend.getErrorDetail(fingerprint, strategy, {
    limit: 50,
    offset,
    timeRange: { start: now - 7 * DAY_US, end: now },
  });
  const rows = d.occurrences.map(
    (o) =>
      html`<tr>
        <td>${formatTime(o.timestampUs)}</td>
        <td>
          <a href="${base}/runs/${o.runId}?step=${encodeURIComponent(o.stepId)}#step-panel"><code>${o.runId}</code></a>
          <small>${o.workflowSlug}</small>
        </td>
        <td>${o.stepId}</td>
        <td>${o.attemptNumber}</td>
        <td>${o.errorMessage}</td>
      </tr>`,
  );
  const more =
    offset + 50 < d.total
      ? html`<a href="${base}/errors/${fingerprint}?strategy=${strategy}&offset=${offset + 50}">more »</a>`
      : "";
  const body = html`<p class="crumbs"><a href="${base}/errors?strategy=${strategy}">Errors</a></p>
    <h1><code>${d.errorName}</code> ${d.errorMessage}</h1>
    <dl class="summary">
      <dt>fingerprint</dt>
      <dd><code>${d.fingerprint}</code> (${strategy})</dd>
      <dt>occurrences</dt>
      <dd id="error-count">${d.totalCount}</dd>
      <dt>affected runs</dt>
      <dd>${d.affectedRuns}</dd>
      <dt>first seen</dt>
      <dd>${formatTime(d.firstSeen)}</dd>
      <dt>last seen</dt>
      <dd>${formatTime(d.lastSeen)}</dd>
    </dl>
    ${
      d.sampleStack
        ? html`<h2>Sample stack</h2>
            <pre class="stack">${d.sampleStack}</pre>`
        : ""
    }
    <h2>Occurrences <small>(last 7 days)</small></h2>
    <table class="grid" id="occurrences">
      <thead>
        <tr>
          <th>when</th>
          <th>run</th>
          <th>step</th>
          <th>attempt</th>
          <th>message</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
    <nav class="pager">${more}</nav>`;
  return layout(env, { title: "Error", active: "errors", body });
}
