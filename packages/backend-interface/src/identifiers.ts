import { InvalidIdentifierError } from "./errors.js";

/** Longest accepted workflowSlug, runId or versionId, and longest stepId segment. */
export const MAX_ID_LENGTH = 128;
/** Longest accepted stepId (all segments). */
export const MAX_STEP_ID_LENGTH = 512;

/** Longest accepted workerId (a host name, a pid and a suffix fit; a file name of it stays under 255 bytes). */
export const MAX_WORKER_ID_LENGTH = 200;

/** The identifier kinds, each with its own rule. */
export type IdentifierKind = "workflowSlug" | "runId" | "stepId" | "versionId" | "workerId";

const SEGMENT = /^[A-Za-z0-9_.-]+$/;
const SEGMENT_CHARS = "only letters, digits, '-', '_' and '.' are allowed";
// Version ids may also hold ':' so content-addressed ids in the original `sha256:<hex>` format are accepted.
const VERSION = /^[A-Za-z0-9_.:-]+$/;
const VERSION_CHARS = "only letters, digits, '-', '_', '.' and ':' are allowed";

/** `field` is what the caller calls the value (`parentRunId`), `kind` the rule it follows (`runId`). */
interface Checked {
  kind: IdentifierKind;
  field: string;
  whole: unknown;
}

function checkSegment(
  c: Checked,
  segment: string,
  max: number,
  pattern: RegExp = SEGMENT,
  chars: string = SEGMENT_CHARS,
): void {
  if (segment.length === 0) throw new InvalidIdentifierError(c.kind, c.whole, "empty segment", c.field);
  if (segment === "." || segment === "..")
    throw new InvalidIdentifierError(c.kind, c.whole, `"${segment}" is not allowed`, c.field);
  if (segment.length > max) throw new InvalidIdentifierError(c.kind, c.whole, `longer than ${max} characters`, c.field);
  if (!pattern.test(segment)) throw new InvalidIdentifierError(c.kind, c.whole, chars, c.field);
}

function checkString(c: Checked): string {
  if (typeof c.whole !== "string") throw new InvalidIdentifierError(c.kind, c.whole, "must be a string", c.field);
  if (c.whole.length === 0) throw new InvalidIdentifierError(c.kind, c.whole, "must not be empty", c.field);
  return c.whole;
}

/** Throws InvalidIdentifierError unless `value` is a valid workflow slug; the message names `field` (default `workflowSlug`). */
export function assertWorkflowSlug(value: unknown, field = "workflowSlug"): asserts value is string {
  const c: Checked = { kind: "workflowSlug", field, whole: value };
  checkSegment(c, checkString(c), MAX_ID_LENGTH);
}

/** Throws InvalidIdentifierError unless `value` is a valid run id; the message names `field` (default `runId`). */
export function assertRunId(value: unknown, field = "runId"): asserts value is string {
  const c: Checked = { kind: "runId", field, whole: value };
  checkSegment(c, checkString(c), MAX_ID_LENGTH);
}

/** Throws InvalidIdentifierError unless `value` is a valid step id (segments joined by '/'); the message names `field` (default `stepId`). */
export function assertStepId(value: unknown, field = "stepId"): asserts value is string {
  const c: Checked = { kind: "stepId", field, whole: value };
  const s = checkString(c);
  if (s.length > MAX_STEP_ID_LENGTH)
    throw new InvalidIdentifierError("stepId", value, `longer than ${MAX_STEP_ID_LENGTH} characters`, field);
  for (const segment of s.split("/")) checkSegment(c, segment, MAX_ID_LENGTH);
}

/**
 * Throws InvalidIdentifierError unless `value` is a valid workflow version id: one segment of letters, digits, '-', '_',
 * '.' and ':' (so `sha256:<hex>` is valid), not `.` or `..`, at most MAX_ID_LENGTH characters. The message names `field`
 * (default `versionId`). Drivers that put a version id in a file name must encode the ':' (see the filesystem layout).
 */
export function assertVersionId(value: unknown, field = "versionId"): asserts value is string {
  const c: Checked = { kind: "versionId", field, whole: value };
  checkSegment(c, checkString(c), MAX_ID_LENGTH, VERSION, VERSION_CHARS);
}

/**
 * Throws InvalidIdentifierError unless `value` is a valid worker id where one names a stored record (worker presence):
 * one segment of letters, digits, '-', '_' and '.' (a host name, a pid and a suffix), not `.` or `..`, at most
 * MAX_WORKER_ID_LENGTH characters. The message names `field` (default `workerId`).
 */
export function assertWorkerId(value: unknown, field = "workerId"): asserts value is string {
  const c: Checked = { kind: "workerId", field, whole: value };
  checkSegment(c, checkString(c), MAX_WORKER_ID_LENGTH);
}

/** Validates whichever of the identifiers are given. */
export function assertIds(ids: {
  workflowSlug?: unknown;
  runId?: unknown;
  stepId?: unknown;
  versionId?: unknown;
}): void {
  if (ids.workflowSlug !== undefined) assertWorkflowSlug(ids.workflowSlug);
  if (ids.runId !== undefined) assertRunId(ids.runId);
  if (ids.stepId !== undefined) assertStepId(ids.stepId);
  if (ids.versionId !== undefined) assertVersionId(ids.versionId);
}

const ASSERTS: Record<IdentifierKind, (value: unknown) => void> = {
  workflowSlug: assertWorkflowSlug,
  runId: assertRunId,
  stepId: assertStepId,
  versionId: assertVersionId,
  workerId: assertWorkerId,
};

/** True when `value` is a valid identifier of the kind. */
export function isValidIdentifier(kind: IdentifierKind, value: unknown): boolean {
  try {
    ASSERTS[kind](value);
    return true;
  } catch {
    return false;
  }
}
