import type { WorkflowVersion } from "@cairn/backend-interface";

/**
 * True when two versions have the same content: content hash, steps and input schema (key order aside).
 * Creation time and descriptive metadata are not content, so re-creating a version without them is idempotent.
 */
export function sameVersionContent(a: WorkflowVersion, b: WorkflowVersion): boolean {
  const content = (v: WorkflowVersion): string => canonical([v.contentHash, v.steps, v.inputSchemaJSON ?? null]);
  return content(a) === content(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const o = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => [k, sortKeys(o[k])]));
}
