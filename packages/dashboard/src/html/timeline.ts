import { html } from "hono/html";
import { formatDuration, type Html } from "./format.js";
import type { StepAttempt } from "./step-attempts.js";

const ROW = 26;
const LABEL = 180;
const WIDTH = 900;

/**
 * The run's timeline as inline SVG: one row per step, each attempt a bar on a shared time axis (its wait before it
 * started drawn hatched). Each bar links to the step's panel (logs, error, checkpoints) on the same page.
 */
export function timelineSvg(
  attempts: StepAttempt[],
  o: { nowUs: number; stepHref: (stepId: string, attempt: number) => string; selected?: string },
): Html {
  if (attempts.length === 0) return html`<p class="empty">No step has been scheduled yet.</p>`;
  const steps = [...new Set(attempts.map((a) => a.stepId))];
  const times = attempts
    .flatMap((a) => [a.scheduledAtUs, a.startUs, a.endUs])
    .filter((t): t is number => t !== undefined);
  // The axis starts at the first execution: a long queue wait before it would squeeze every bar to a sliver. Waits
  // that began earlier are drawn from the left edge (their full length is in the bar's title and the attempts table).
  const starts = attempts.map((a) => a.startUs).filter((t): t is number => t !== undefined);
  const t0 = starts.length ? Math.min(...starts) : Math.min(...times);
  const t1 = Math.max(
    ...times,
    ...attempts.filter((a) => a.endUs === undefined && a.startUs !== undefined).map(() => o.nowUs),
  );
  const span = Math.max(1, t1 - t0);
  const x = (t: number): number => LABEL + (Math.max(0, t - t0) / span) * (WIDTH - LABEL - 10);
  const height = steps.length * ROW + 24;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({
    x: LABEL + f * (WIDTH - LABEL - 10),
    label: `+${formatDuration(f * span)}`,
    anchor: f === 0 ? "start" : f === 1 ? "end" : "middle",
  }));
  const rows = steps.map((stepId, i) => {
    const y = i * ROW + 4;
    const bars = attempts
      .filter((a) => a.stepId === stepId)
      .map((a) => {
        const start = a.startUs ?? a.endUs ?? a.scheduledAtUs ?? t0;
        const end = a.endUs ?? (a.startUs !== undefined ? o.nowUs : start);
        const waitFrom = a.scheduledAtUs;
        const ran =
          a.startUs !== undefined && a.endUs !== undefined ? ` in ${formatDuration(a.endUs - a.startUs)}` : "";
        const waited =
          waitFrom !== undefined && a.startUs !== undefined
            ? `, after waiting ${formatDuration(Math.max(0, a.startUs - waitFrom))}`
            : "";
        const title = `${stepId} attempt ${a.attempt}: ${a.outcome}${ran}${waited}${a.workerId ? ` on ${a.workerId}` : ""}`;
        return html`<a href="${o.stepHref(stepId, a.attempt)}" class="bar-link" data-step="${stepId}" data-attempt="${a.attempt}">
${waitFrom !== undefined && a.startUs !== undefined && x(a.startUs) - x(waitFrom) >= 1 ? html`<rect class="wait" x="${x(waitFrom)}" y="${y + 6}" width="${x(a.startUs) - x(waitFrom)}" height="${ROW - 14}"><title>${title}</title></rect>` : ""}
<rect class="bar bar-${a.outcome}${o.selected === stepId ? " selected" : ""}" x="${x(start)}" y="${y}" width="${Math.max(3, x(end) - x(start))}" height="${ROW - 6}"><title>${title}</title></rect>
</a>`;
      });
    return html`<text class="label" x="4" y="${y + ROW / 2 + 1}">${stepId.length > 26 ? `${stepId.slice(0, 25)}…` : stepId}</text>${bars}`;
  });
  return html`<svg class="timeline" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="step timeline">
${ticks.map((t) => html`<line class="tick" x1="${t.x}" x2="${t.x}" y1="0" y2="${height - 18}"></line><text class="tick-label" x="${t.x}" y="${height - 4}" text-anchor="${t.anchor}">${t.label}</text>`)}
${rows}
</svg>
<p class="legend"><span class="swatch bar-completed"></span>completed <span class="swatch bar-retried"></span>failed, retried <span class="swatch bar-failed"></span>failed <span class="swatch bar-running"></span>running <span class="swatch bar-skipped"></span>skipped <span class="swatch wait"></span>waiting</p>`;
}
