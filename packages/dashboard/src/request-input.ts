import {
  assertRunId,
  assertStepId,
  assertWorkflowSlug,
  GROUPING_STRATEGIES,
  InvalidArgumentError,
  type GroupingStrategy,
} from "@cairn/backend-interface";

/**
 * Validators of what a browser sends. Each throws the same typed errors as the CLI (InvalidIdentifierError,
 * InvalidArgumentError), so nothing a request sends reaches a query unchecked.
 */

/** A run id from a path or form, or InvalidIdentifierError. */
export function runIdInput(value: unknown, field = "runId"): string {
  assertRunId(value, field);
  return value;
}

/** A step id from a path or form, or InvalidIdentifierError. */
export function stepIdInput(value: unknown, field = "stepId"): string {
  assertStepId(value, field);
  return value;
}

/** A workflow slug from a path or form, or InvalidIdentifierError. */
export function workflowInput(value: unknown, field = "workflow"): string {
  assertWorkflowSlug(value, field);
  return value;
}

const FINGERPRINT = /^[0-9a-f]{4,128}:[0-9a-f]{4,128}:[0-9a-f]{4,128}$/;

/** A composite error fingerprint (`nameHash:messageHash:stackHash`, lowercase hex), or InvalidArgumentError. */
export function fingerprintInput(value: unknown): string {
  if (typeof value !== "string" || !FINGERPRINT.test(value)) {
    throw new InvalidArgumentError(
      `fingerprint must be three hex hashes joined by ':', got ${JSON.stringify(String(value)).slice(0, 80)}.`,
    );
  }
  return value;
}

/** A grouping strategy (exact, normalized, portable; default normalized), or InvalidArgumentError. */
export function strategyInput(value: unknown): GroupingStrategy {
  if (value === undefined || value === "") return "normalized";
  if (typeof value === "string" && (GROUPING_STRATEGIES as readonly string[]).includes(value))
    return value as GroupingStrategy;
  throw new InvalidArgumentError(
    `strategy must be one of ${GROUPING_STRATEGIES.join(", ")}, got ${JSON.stringify(String(value)).slice(0, 80)}.`,
  );
}

/** An integer within bounds (default when absent), or InvalidArgumentError naming the field. */
export function intInput(field: string, value: unknown, o: { min: number; max: number; fallback: number }): number {
  if (value === undefined || value === "") return o.fallback;
  const n = typeof value === "string" && /^-?\d{1,12}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < o.min || n > o.max)
    throw new InvalidArgumentError(
      `${field} must be an integer from ${o.min} to ${o.max}, got ${JSON.stringify(String(value)).slice(0, 40)}.`,
    );
  return n;
}

/** A short free-text field (a reason), trimmed; at most `max` characters, no control characters. */
export function textInput(field: string, value: unknown, max = 500): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string" || value.length > max || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(value)) {
    throw new InvalidArgumentError(`${field} must be text of at most ${max} characters without control characters.`);
  }
  return value.trim() || undefined;
}
