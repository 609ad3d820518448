import { html } from "hono/html";

/** A fragment of escaped HTML, as hono's `html` template tag returns it. */
export type Html = ReturnType<typeof html>;

/** An ISO-like UTC time for a µs instant (seconds precision), or "–". */
export function formatTime(us: number | null | undefined): string {
  if (us === null || us === undefined) return "–";
  return new Date(Math.floor(us / 1000))
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "Z");
}

/** A short duration for µs: 850 µs, 12 ms, 3.4 s, 5m 2s, 2h 5m. */
export function formatDuration(us: number | null | undefined): string {
  if (us === null || us === undefined) return "–";
  if (us < 1000) return `${Math.round(us)} µs`;
  const ms = us / 1000;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
}

/** "3 s ago", "5 min ago", for `us` seen from `nowUs`. */
export function formatAgo(us: number | null | undefined, nowUs: number): string {
  if (us === null || us === undefined) return "–";
  return `${formatDuration(Math.max(0, nowUs - us))} ago`;
}

/** A percentage as the analytics give it (0–100). */
export function formatRate(percent: number): string {
  return `${percent.toFixed(1)}%`;
}

/** A status badge; the status is one of a closed set, and the CSS class is derived from it. */
export function statusBadge(status: string): Html {
  const known = /^(pending|scheduled|running|completed|failed|cancelled|skipped|active|stale|stopped)$/.test(status)
    ? status
    : "other";
  return html`<span class="badge badge-${known}" data-status="${status}">${status}</span>`;
}

/** Pretty JSON text of a serialised value (as stored on runs and steps), or the text itself when it is not JSON. */
export function prettyJson(text: string | undefined): string {
  if (text === undefined) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
