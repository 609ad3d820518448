import { html, raw } from "hono/html";
import { formatRate, statusBadge, type Html } from "../html/format.js";
import { layout } from "../html/layout.js";
import { RUN_STATUSES } from "../run-filter.js";
import type { PageEnv } from "../page-env.js";

const HOURS = 24;
const HOUR_US = 3_600_000_000;
/** Most runs of the last 24 h the "runs over time" chart reads (newest first). */
const CHART_RUNS = 5000;

/** Pure: per hour of the last 24, the number of runs created then, by their status now (uPlot's column layout). */
export function runsByHour(
  runs: ReadonlyArray<{ createdAtUs: number; status: string }>,
  nowUs: number,
): { hours: number[]; series: Record<string, number[]> } {
  const startUs = Math.floor(nowUs / HOUR_US) * HOUR_US - (HOURS - 1) * HOUR_US;
  const hours = Array.from({ length: HOURS }, (_, i) => (startUs + i * HOUR_US) / 1e6);
  const series = Object.fromEntries(RUN_STATUSES.map((s) => [s, new Array<number>(HOURS).fill(0)]));
  for (const r of runs) {
    const i = Math.floor((r.createdAtUs - startUs) / HOUR_US);
    if (i >= 0 && i < HOURS && series[r.status]) series[r.status]![i]! += 1;
  }
  return { hours, series };
}

/** The overview: run outcomes and throughput over 24 h, the queue now, active workers, the top error groups. */
export async function overviewPage(env: PageEnv): Promise<Html> {
  const { backend, base } = env;
  const [success, throughput, queue, workers, errors, recent] = await Promise.all([
    backend.getSuccessRate(),
    backend.getThroughput(),
    backend.getQueueDepth(),
    backend.getActiveWorkers(),
    backend.getErrorsList({ limit: 5 }),
    backend.listRuns({ createdAfterUs: Math.max(0, env.nowUs() - 86_400_000_000), limit: CHART_RUNS }),
  ]);
  const chart = runsByHour(recent, env.nowUs());
  // JSON inside <script type="application/json">: "<" escaped so no text can close the element.
  const chartJson = JSON.stringify(chart).replace(/</g, "\\u003c");
  const card = (label: string, value: string | number, id: string, hint = ""): Html =>
    html`<div class="card" id="${id}">
      <div class="card-value">${value}</div>
      <div class="card-label">${label}</div>
      ${hint ? html`<div class="card-hint">${hint}</div>` : ""}
    </div>`;
  const runs = success.runs;
  const outcomes = `${runs.completed} completed · ${runs.failed} failed · ${runs.cancelled} cancelled`;
  const topErrors =
    errors.errors.length === 0
      ? html`<p class="empty">No failures in the last 24 hours.</p>`
      : html`<table class="grid" id="top-errors">
          <thead>
            <tr>
              <th>error</th>
              <th>count</th>
              <th>runs</th>
            </tr>
          </thead>
          <tbody>
            ${errors.errors.map(
              (g) =>
                html`<tr>
                  <td>
                    <a href="${base}/errors/${g.fingerprint}"><code>${g.errorName}</code> ${g.errorMessage}</a>
                  </td>
                  <td>${g.count}</td>
                  <td>${g.affectedRuns}</td>
                </tr>`,
            )}
          </tbody>
        </table>`;
  const body = html`<h1>Overview</h1>
    <section class="cards">
      ${card("success rate (24 h)", runs.total ? formatRate(runs.successRate) : "–", "card-success", outcomes)}
      ${card("runs / hour", throughput.runsPerHour.toFixed(1), "card-throughput", `${throughput.runsCompleted} completed in 24 h`)}
      ${card("ready / delayed runs", `${queue.readyRuns} / ${queue.delayedRuns}`, "card-queue-runs", `${queue.runningRuns} running`)}
      ${card("ready / delayed steps", `${queue.readySteps} / ${queue.delayedSteps}`, "card-queue-steps", `${queue.runningSteps} running`)}
      ${card("active workers", workers.filter((w) => w.isActive).length, "card-workers")}
    </section>
    <section>
      <h2>Runs by status, last 24 h <small>(by creation hour, status now)</small></h2>
      <div id="runs-chart" class="chart"></div>
      <script type="application/json" id="runs-chart-data">
        ${raw(chartJson)}
      </script>
      <p class="legend">${RUN_STATUSES.map((s) => html`${statusBadge(s)} `)}</p>
    </section>
    <section>
      <h2>Top error groups <small>(24 h)</small></h2>
      ${topErrors}
    </section>`;
  const head = html`<link rel="stylesheet" href="${base}/assets/uPlot.min.css" />
    <script src="${base}/assets/uPlot.iife.min.js" defer></script>
    <script src="${base}/assets/dashboard.js" defer></script>`;
  return layout(env, { title: "Overview", active: "overview", body, head });
}
