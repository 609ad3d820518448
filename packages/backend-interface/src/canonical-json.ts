/**
 * Canonical JSON text of a parsed JSON value: object keys sorted (by UTF-16 code units) at every depth, arrays kept in
 * order, no whitespace. Two values that differ only in key order have the same canonical text.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const record = value as Record<string, unknown>;
  // Built as text, not as a new object, so a "__proto__" key stays an ordinary key.
  return `{${Object.keys(record)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
    .join(",")}}`;
}

/**
 * True when two serialised JSON texts (for example a run's stored input and a resubmitted one) hold the same value:
 * equal canonical JSON, so key order and whitespace do not matter and array order does. `undefined` (no value) equals
 * only `undefined`. A text that is not valid JSON is compared as it is.
 */
export function sameJsonText(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const ca = canonicalOrNull(a);
  const cb = canonicalOrNull(b);
  return ca !== null && ca === cb;
}

function canonicalOrNull(text: string): string | null {
  try {
    return canonicalJson(JSON.parse(text));
  } catch {
    return null;
  }
}
