/**
 * Serialises any value to a JSON string, never throwing.
 *
 * Fallback, documented: `undefined` becomes `null`; BigInt becomes `{"$bigint":"<digits>"}`;
 * a function or symbol becomes `{"$unserializable":"function"}` (or `"symbol"`) as a value or an array element, and is
 * dropped as an object member (as JSON drops it); a cycle becomes `{"$circular":"<path>"}`;
 * `NaN`/`Infinity` become `null` (as JSON.stringify does); objects whose toJSON throws become `{"$unserializable":"<message>"}`.
 */
export function serializeValue(value: unknown): string {
  try {
    // Same encoding as encodeSafe, so a value serialises alike whether or not it also holds a cycle.
    const s = JSON.stringify(value, function (this: unknown, _k: string, v: unknown) {
      if (typeof v === "bigint") return { $bigint: v.toString() };
      if ((typeof v === "function" || typeof v === "symbol") && Array.isArray(this))
        return { $unserializable: typeof v };
      return v;
    });
    if (s !== undefined) return s;
  } catch {
    // fall through to the cycle-safe encoder
  }
  return JSON.stringify(encodeSafe(value, new Map(), "$")) ?? "null";
}

function encodeSafe(value: unknown, seen: Map<object, string>, path: string): unknown {
  if (value === undefined) return null;
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (typeof value === "function" || typeof value === "symbol") return { $unserializable: typeof value };
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (value === null || typeof value !== "object") return value;
  const at = seen.get(value);
  if (at !== undefined) return { $circular: at };
  seen.set(value, path);
  try {
    const withToJSON = value as { toJSON?: () => unknown };
    if (typeof withToJSON.toJSON === "function") {
      try {
        return encodeSafe(withToJSON.toJSON(), seen, path);
      } catch (err) {
        return { $unserializable: err instanceof Error ? err.message : String(err) };
      }
    }
    if (Array.isArray(value)) return value.map((v, i) => encodeSafe(v, seen, `${path}[${i}]`));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
      out[k] = encodeSafe(v, seen, `${path}.${k}`);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** Parses a string written by serializeValue; `undefined` for absent input. */
export function deserializeValue(text: string | undefined | null): unknown {
  if (text === undefined || text === null) return undefined;
  return JSON.parse(text);
}
