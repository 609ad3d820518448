import { InvalidIdentifierError } from "./errors.js";

/** Longest accepted workflowSlug or runId, and longest stepId segment. */
export const MAX_ID_LENGTH = 128;
/** Longest accepted stepId (all segments). */
export const MAX_STEP_ID_LENGTH = 512;

const SEGMENT = /^[A-Za-z0-9_.-]+$/;

function checkSegment(kind: string, whole: unknown, segment: string, max: number): void {
  if (segment.length === 0) throw new InvalidIdentifierError(kind, whole, "empty segment");
  if (segment === "." || segment === "..") throw new InvalidIdentifierError(kind, whole, `"${segment}" is not allowed`);
  if (segment.length > max) throw new InvalidIdentifierError(kind, whole, `longer than ${max} characters`);
  if (!SEGMENT.test(segment)) throw new InvalidIdentifierError(kind, whole, "only letters, digits, '-', '_' and '.' are allowed");
}

function checkString(kind: string, value: unknown): string {
  if (typeof value !== "string") throw new InvalidIdentifierError(kind, value, "must be a string");
  if (value.length === 0) throw new InvalidIdentifierError(kind, value, "must not be empty");
  return value;
}

/** Throws InvalidIdentifierError unless `value` is a valid workflow slug. */
export function assertWorkflowSlug(value: unknown): asserts value is string {
  checkSegment("workflowSlug", value, checkString("workflowSlug", value), MAX_ID_LENGTH);
}

/** Throws InvalidIdentifierError unless `value` is a valid run id. */
export function assertRunId(value: unknown): asserts value is string {
  checkSegment("runId", value, checkString("runId", value), MAX_ID_LENGTH);
}

/** Throws InvalidIdentifierError unless `value` is a valid step id: segments joined by '/'. */
export function assertStepId(value: unknown): asserts value is string {
  const s = checkString("stepId", value);
  if (s.length > MAX_STEP_ID_LENGTH) throw new InvalidIdentifierError("stepId", value, `longer than ${MAX_STEP_ID_LENGTH} characters`);
  for (const segment of s.split("/")) checkSegment("stepId", value, segment, MAX_ID_LENGTH);
}

/** Validates whichever of the three identifiers are given. */
export function assertIds(ids: { workflowSlug?: unknown; runId?: unknown; stepId?: unknown }): void {
  if (ids.workflowSlug !== undefined) assertWorkflowSlug(ids.workflowSlug);
  if (ids.runId !== undefined) assertRunId(ids.runId);
  if (ids.stepId !== undefined) assertStepId(ids.stepId);
}

/** True when `value` is a valid identifier of the kind. */
export function isValidIdentifier(kind: "workflowSlug" | "runId" | "stepId", value: unknown): boolean {
  try {
    if (kind === "stepId") assertStepId(value);
    else if (kind === "runId") assertRunId(value);
    else assertWorkflowSlug(value);
    return true;
  } catch {
    return false;
  }
}
