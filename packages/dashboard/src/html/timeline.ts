import { html } from "hono/html";
import { formatDuration, type Html } from "./format.js";
import type { StepAttempt } from "./step-attempts.js";

const ROW = 26;
const LABEL = 180;
const WIDTH = 900;

/** How the timeline maps time to x, and what each bar links to. */
interface Axis {
  x: (t: number) => number;
  t0: number;
  nowUs: number;
  stepHref: (stepId: string, attempt: number) => string;
  selected?: string | undefined;
}

function describe(a: StepAttempt): string {
  const ran = a.startUs !== undefined && a.endUs !== undefined ? ` in ${formatDuration(a.endUs - a.startUs)}` : "";
  const waited =
    a.scheduledAtUs !== undefined && a.startUs !== undefined
      ? `, after waiting ${formatDuration(Math.max(0, a.startUs - a.scheduledAtUs))}`
      : "";
  return `${a.stepId} attempt ${a.attempt}: ${a.outcome}${ran}${waited}${a.workerId ? ` on ${a.workerId}` : ""}`;
}

/** One attempt: its wait (hatched) and its run as a bar, linking to the step's panel. */
function attemptBar(a: StepAttempt, y: number, ax: Axis): Html {
  const { x } = ax;
  const start = a.startUs ?? a.endUs ?? a.scheduledAtUs ?? ax.t0;
  const end = a.endUs ?? (a.startUs !== undefined ? ax.nowUs : start);
  const title = describe(a);
  const from = a.scheduledAtUs;
  const wait =
    from !== undefined && a.startUs !== undefined && x(a.startUs) - x(from) >= 1
      ? html`<rect class="wait" x="${x(from)}" y="${y + 6}" width="${x(a.startUs) - x(from)}" height="${ROW - 14}"
          ><title>${title}</title></rect
        >`
      : "";
  const cls = `bar bar-${a.outcome}${ax.selected === a.stepId ? " selected" : ""}`;
  return html`<a
    href="${ax.stepHref(a.stepId, a.attempt)}"
    class="bar-link"
    data-step="${a.stepId}"
    data-attempt="${a.attempt}"
  >
    ${wait}<rect class="${cls}" x="${x(start)}" y="${y}" width="${Math.max(3, x(end) - x(start))}" height="${ROW - 6}"
      ><title>${title}</title></rect
    >
  </a>`;
}

const LEGEND = html`<p class="legend">
  <span class="swatch bar-completed"></span>completed <span class="swatch bar-retried"></span>failed, retried
  <span class="swatch bar-failed"></span>failed <span class="swatch bar-running"></span>running
  <span class="swatch bar-skipped"></span>skipped <span class="swatch wait"></span>waiting
</p>`;

/**
 * The run's timeline as inline SVG: one row per step, each attempt a bar on a shared time axis (its wait before it
 * started drawn hatched). Each bar links to the step's panel (logs, error, checkpoints) on the same page.
 */
export function timelineSvg(
  attempts: StepAttempt[],
  o: { nowUs: number; stepHref: (stepId: string, attempt: number) => string; selected?: string | undefined },
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
  const stillRunning = attempts.some((a) => a.endUs === undefined && a.startUs !== undefined);
  const span = Math.max(1, Math.max(...times, ...(stillRunning ? [o.nowUs] : [])) - t0);
  const ax: Axis = { ...o, t0, x: (t) => LABEL + (Math.max(0, t - t0) / span) * (WIDTH - LABEL - 10) };
  const height = steps.length * ROW + 24;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const tx = LABEL + f * (WIDTH - LABEL - 10);
    const anchor = f === 0 ? "start" : f === 1 ? "end" : "middle";
    return html`<line class="tick" x1="${tx}" x2="${tx}" y1="0" y2="${height - 18}"></line>
      <text class="tick-label" x="${tx}" y="${height - 4}" text-anchor="${anchor}">+${formatDuration(f * span)}</text>`;
  });
  const rows = steps.map((stepId, i) => {
    const y = i * ROW + 4;
    const label = stepId.length > 26 ? `${stepId.slice(0, 25)}…` : stepId;
    const bars = attempts.filter((a) => a.stepId === stepId).map((a) => attemptBar(a, y, ax));
    return html`<text class="label" x="4" y="${y + ROW / 2 + 1}">${label}</text>${bars}`;
  });
  return html`<svg class="timeline" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="step timeline">
      ${ticks}${rows}</svg
    >${LEGEND}`;
}
