/** Renders rows as an aligned text table with a header. */
export function table(headers: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined ? "" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(headers), ...cells.map(line)].join("\n");
}

/** A µs duration for humans: 850ms, 12.3s, 4m05s, 2h10m. */
export function duration(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us)) return "";
  const ms = us / 1000;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** A µs timestamp as local ISO-like time: 2026-01-02 15:04:05. */
export function time(us: number | undefined): string {
  if (us === undefined) return "";
  const d = new Date(Math.floor(us / 1000));
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Shortens text to `max` characters on one line. */
export function clip(text: string | undefined, max = 60): string {
  if (!text) return "";
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** Pretty JSON of a stored JSON string (or the raw text when it is not JSON). */
export function prettyJson(text: string | undefined): string {
  if (text === undefined) return "";
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

/**
 * A generic human rendering of an analytics answer: scalars as `key: value`, arrays of objects as tables,
 * nested objects indented. µs fields (`…Us`) are shown as durations.
 */
export function renderObject(value: unknown, indent = ""): string {
  if (value === null || typeof value !== "object") return `${indent}${String(value)}`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}(none)`;
    if (value.every((v) => v && typeof v === "object" && !Array.isArray(v))) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v as object)))].filter((k) => value.some((v) => isScalar((v as Record<string, unknown>)[k])));
      const body = table(keys, value.map((v) => keys.map((k) => scalar(k, (v as Record<string, unknown>)[k], true))));
      return body.split("\n").map((l) => indent + l).join("\n");
    }
    return `${indent}${value.map((v) => scalar("", v)).join(", ")}`;
  }
  const lines: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (isScalar(v)) lines.push(`${indent}${k}: ${scalar(k, v)}`);
    else lines.push(`${indent}${k}:`, renderObject(v, `${indent}  `));
  }
  return lines.join("\n");
}

function isScalar(v: unknown): boolean {
  return v === null || v === undefined || typeof v !== "object";
}

function scalar(key: string, v: unknown, inTable = false): string {
  if (v === undefined || v === null) return "";
  // µs since the epoch (any field past 2001 in µs) is a timestamp; other `…Us` numbers are durations.
  if (typeof v === "number" && v > 1e15) return time(v);
  if (typeof v === "number" && /Us$/.test(key)) return duration(v);
  if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(2);
  if (typeof v === "object") return inTable ? clip(JSON.stringify(v), 40) : JSON.stringify(v);
  return inTable ? clip(String(v), /stack/i.test(key) ? 40 : 70) : String(v);
}
