import { parseFlowControl, type FlowControl } from "@cairn/backend-interface";
import { parseDurationMs } from "./retention-spec.js";

/** A duration: ms, or a string such as "500ms", "30s", "15m", "2h", "7d". */
export type Duration = number | string;

/** Flow control as a workflow author declares it (see docs/flow-control.md). All rules of a workflow share one key. */
export interface FlowSpec {
  /** At most `limit` runs executing at once, globally or per key (`key`: a dotted input path, e.g. "customerId"). */
  concurrency?: { limit?: number; key?: string };
  /** What a submit does while a run of the same workflow and key is active: queue (default), singleton, exclusive, capacity. */
  mode?: "queue" | "singleton" | "exclusive" | "capacity";
  /** singleton: "drop" | "replace" | "signal"; exclusive: "reject" | "latest". */
  onBusy?: "drop" | "replace" | "signal" | "reject" | "latest";
  /** capacity mode: the most runs that may wait; beyond it a submit is refused. */
  capacity?: number;
  /** At most `limit` runs start in any window of `period`; over it a run is delayed (default) or dropped. */
  rateLimit?: { limit: number; period: Duration; key?: string; onExceed?: "delay" | "drop" };
  /** A run starts `period` after the newest submit for its key, with the newest input. */
  debounce?: { period: Duration; key?: string };
}

const FIELDS = ["concurrency", "mode", "onBusy", "capacity", "rateLimit", "debounce"] as const;

/**
 * The stored flow control of a declaration, or its problems (each names the field). `inputSchema` (the workflow's
 * input JSON Schema) is checked to contain the key path when it lists the input's properties.
 */
export function toFlowControl(
  decl: Partial<Record<(typeof FIELDS)[number], unknown>>,
  inputSchema: unknown,
): { flow?: FlowControl; problems: string[] } {
  if (FIELDS.every((f) => decl[f] === undefined)) return { problems: [] };
  const problems: string[] = [];
  const obj = (field: string, v: unknown): Record<string, unknown> | null => {
    if (v === undefined) return null;
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      problems.push(`${field} must be an object`);
      return null;
    }
    return v as Record<string, unknown>;
  };
  const concurrency = obj("concurrency", decl.concurrency);
  const rate = obj("rateLimit", decl.rateLimit);
  const debounce = obj("debounce", decl.debounce);
  const keys = new Map<string, unknown>(
    [
      ["concurrency.key", concurrency?.key],
      ["rateLimit.key", rate?.key],
      ["debounce.key", debounce?.key],
    ].filter(([, k]) => k !== undefined) as Array<[string, unknown]>,
  );
  const distinct = new Set(keys.values());
  if (distinct.size > 1)
    problems.push(`${[...keys.keys()].join(" and ")} differ; all flow-control rules of a workflow share one key`);
  const key = [...distinct][0];
  const period = (field: string, v: unknown): number | undefined => {
    const ms = parseDurationMs(v);
    if (ms === null || ms <= 0)
      problems.push(
        `${field} must be a positive duration such as "30s", "1m" or "1h" (or ms), got ${JSON.stringify(v)}`,
      );
    return ms ?? undefined;
  };
  const input = {
    ...(key !== undefined ? { key } : {}),
    ...(concurrency?.limit !== undefined ? { limit: concurrency.limit } : {}),
    ...(decl.mode !== undefined ? { mode: decl.mode } : {}),
    ...(decl.onBusy !== undefined ? { onBusy: decl.onBusy } : {}),
    ...(decl.capacity !== undefined ? { capacity: decl.capacity } : {}),
    ...(rate
      ? {
          rateLimit: {
            limit: rate.limit,
            periodMs: period("rateLimit.period", rate.period),
            ...(rate.onExceed !== undefined ? { onExceed: rate.onExceed } : {}),
          },
        }
      : {}),
    ...(debounce ? { debounce: { periodMs: period("debounce.period", debounce.period) } } : {}),
  };
  if (problems.length) return { problems };
  const parsed = parseFlowControl(input);
  if (!parsed.ok) return { problems: parsed.problems.map((p) => rename(p)) };
  if (typeof key === "string") {
    const missing = missingPath(inputSchema, key);
    if (missing)
      problems.push(
        `the key "${key}" is not a field of the workflow's input schema (${missing}); name an input field, or pass concurrencyKey at submit`,
      );
  }
  return problems.length ? { problems } : { flow: parsed.flow, problems };
}

/** Stored field names back to the declared ones, so a problem names what the author wrote. */
function rename(problem: string): string {
  return problem
    .replace(/^limit:/, "concurrency.limit:")
    .replace(/^key:/, "concurrency.key:")
    .replace(/^rateLimit\.periodMs:/, "rateLimit.period:")
    .replace(/^debounce\.periodMs:/, "debounce.period:");
}

/** Why `path` is not in a JSON Schema's properties, or null when it is (or the schema does not list properties). */
function missingPath(schema: unknown, path: string): string | null {
  let node = schema as { properties?: Record<string, unknown> } | undefined;
  const seen: string[] = [];
  for (const part of path.split(".")) {
    if (!node || typeof node !== "object" || !node.properties) return null;
    if (!(part in node.properties))
      return seen.length ? `${seen.join(".")} has no field "${part}"` : `no field "${part}"`;
    seen.push(part);
    node = node.properties[part] as typeof node;
  }
  return null;
}
