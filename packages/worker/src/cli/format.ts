/** A µs duration for humans: 850ms, 12.3s, 4m05s, 2h10m. */
export function duration(us: number | undefined | null): string {
  if (us === undefined || us === null || !Number.isFinite(us)) return "";
  const ms = us / 1000;
  if (ms < 10 && ms > 0 && !Number.isInteger(Math.round(ms * 10) / 10)) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** A µs timestamp as local time: 2026-01-02 15:04:05 (with `.123` milliseconds when `ms`). */
export function time(us: number | undefined | null, ms = false): string {
  if (us === undefined || us === null) return "";
  const d = new Date(Math.floor(us / 1000));
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const base = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return ms ? `${base}.${p(d.getMilliseconds(), 3)}` : base;
}

/** A percentage the analytics give as 0–100: `87.5%`. */
export function percent(value: number): string {
  return `${Number.isInteger(value) ? value : value.toFixed(1)}%`;
}

/** Shortens text to `max` characters on one line (for list views; detail views show it whole). */
export function clip(text: string | undefined, max = 60): string {
  if (!text) return "";
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** Pretty JSON of a stored JSON string (or the raw text when it is not JSON). */
export function prettyJson(text: string | undefined): string {
  if (text === undefined) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Indents every line of `text`. */
export function indent(text: string, by: string): string {
  return text
    .split("\n")
    .map((l) => (l ? by + l : l))
    .join("\n");
}

/** What a wait waits for, in words. */
export function waitLabel(w: { kind: string; name: string; match?: Record<string, unknown> }): string {
  if (w.kind === "event") return `signal ${w.name}${w.match ? ` ${JSON.stringify(w.match)}` : ""}`;
  return `${w.kind} ${w.name}`;
}
