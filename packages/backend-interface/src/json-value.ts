/**
 * What keeps `value` from being a JSON value (a function, a symbol, a BigInt, a non-finite number, a cycle, an
 * object that is not plain), naming where (`at`, e.g. `payload.items[2]`); undefined when it is JSON. `undefined`
 * itself is accepted at the top (no payload) and inside objects (JSON.stringify drops it), not inside arrays.
 */
export function jsonValueProblem(value: unknown, at: string, seen: Set<object> = new Set()): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "undefined":
      return seen.size === 0 ? undefined : `${at} is undefined`;
    case "number":
      return Number.isFinite(value) ? undefined : `${at} is ${String(value)}, which JSON cannot hold`;
    case "bigint":
      return `${at} is a BigInt, which JSON cannot hold`;
    case "function":
    case "symbol":
      return `${at} is a ${typeof value}, which JSON cannot hold`;
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (seen.has(obj)) return `${at} refers back to itself (a cycle)`;
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      for (const [i, v] of obj.entries()) {
        const p = v === undefined ? `${at}[${i}] is undefined` : jsonValueProblem(v, `${at}[${i}]`, seen);
        if (p) return p;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null)
      return `${at} is a ${proto?.constructor?.name ?? "non-plain"} object, not a plain JSON object`;
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      const p = jsonValueProblem(v, `${at}.${k}`, seen);
      if (p) return p;
    }
    return undefined;
  } finally {
    seen.delete(obj);
  }
}
