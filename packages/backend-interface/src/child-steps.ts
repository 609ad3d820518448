import type { EventOf } from "./events.js";
import { InvalidArgumentError } from "./errors.js";
import type { StepError } from "./schemas.js";

/** The longest name of a child step. */
export const CHILD_STEP_NAME_MAX = 200;
/** The deepest nesting of child steps (a child's path holds at most this many names). */
export const CHILD_STEP_DEPTH_MAX = 16;

/** A child step (`ctx.step(name, fn)`) as a step (or the tracker) reports it once it ended. */
export interface ChildStepInput {
  /** The attempt of the step the child ran in. */
  attemptNumber: number;
  /** The child's path: the names from the outermost child down, joined by `/` (`load/parse`). */
  childId: string;
  /** How it ended: `ok` (with its result in `output`) or `error`. */
  status: "ok" | "error";
  startedAtUs: number;
  durationUs: number;
  /** The result of an `ok` child, serialised JSON (replayed by a later attempt). */
  output?: string;
  /** The error of a failed child (fingerprinted by the backend). */
  error?: StepError;
}

/** A recorded child step, as `loadStepChildren` returns it. */
export interface ChildStepRecord extends ChildStepInput {
  stepId: string;
  /** The last name of its path. */
  name: string;
  /** The child it ran in (its path without the last name); absent: directly under the step. */
  parentChildId?: string;
  /** When it was stored (µs). */
  recordedAtUs: number;
  errorFingerprints?: EventOf<"StepChild">["errorFingerprints"];
}

/** A finished child of an earlier attempt, as a claim returns it: a retry returns `output` instead of running it again. */
export interface SavedChildStep {
  childId: string;
  attemptNumber: number;
  /** Its result, serialised JSON. */
  output: string;
}

/** Checks a child step's name: a non-empty string of at most CHILD_STEP_NAME_MAX characters without `/` or NUL. */
export function validateChildStepName(name: unknown): string {
  if (typeof name !== "string" || name.trim().length === 0) {
    throw new InvalidArgumentError(
      `A child step's name must be a non-empty string, got ${JSON.stringify(name) ?? String(name)}. Nothing was recorded.`,
      { field: "name" },
    );
  }
  if (name.length > CHILD_STEP_NAME_MAX || name.includes("/") || name.includes("\u0000")) {
    throw new InvalidArgumentError(
      `A child step's name must be at most ${CHILD_STEP_NAME_MAX} characters without '/' or NUL (a path is written parent/child), got ${JSON.stringify(name.slice(0, 60))}${name.length > 60 ? "…" : ""}. Nothing was recorded.`,
      { field: "name" },
    );
  }
  return name;
}

/** Checks a child's path (names joined by `/`, at most CHILD_STEP_DEPTH_MAX of them); returns its names. */
export function validateChildPath(childId: unknown): string[] {
  if (typeof childId !== "string")
    throw new InvalidArgumentError(`A childId must be a path of child step names (a/b), got ${String(childId)}.`, {
      field: "childId",
    });
  const names = childId.split("/");
  if (names.length > CHILD_STEP_DEPTH_MAX)
    throw new InvalidArgumentError(
      `Child steps nest at most ${CHILD_STEP_DEPTH_MAX} deep, got ${names.length} in ${JSON.stringify(childId.slice(0, 80))}.`,
      { field: "childId" },
    );
  for (const n of names) validateChildStepName(n);
  return names;
}

/** The path of a child named `name` under `parent` (a child's path, or undefined for the step itself). */
export function childPath(parent: string | undefined, name: string): string {
  return parent === undefined ? name : `${parent}/${name}`;
}

const nonNegInt = (v: unknown): boolean => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Checks a whole reported child step; throws InvalidArgumentError naming the field, so nothing is written. */
export function validateChildStepInput(c: ChildStepInput): ChildStepInput & { name: string; parentChildId?: string } {
  if (c === null || typeof c !== "object")
    throw new InvalidArgumentError(
      "A child step record needs { attemptNumber, childId, status, startedAtUs, durationUs }.",
    );
  const names = validateChildPath(c.childId);
  if (!nonNegInt(c.attemptNumber) || c.attemptNumber < 1)
    throw new InvalidArgumentError(
      `A child step's attemptNumber must be a positive integer, got ${String(c.attemptNumber)}.`,
      { field: "attemptNumber" },
    );
  for (const k of ["startedAtUs", "durationUs"] as const) {
    if (!nonNegInt(c[k]))
      throw new InvalidArgumentError(`A child step's ${k} must be a non-negative integer of µs, got ${String(c[k])}.`, {
        field: k,
      });
  }
  if (c.status !== "ok" && c.status !== "error")
    throw new InvalidArgumentError(`A child step's status must be "ok" or "error", got ${JSON.stringify(c.status)}.`, {
      field: "status",
    });
  if (c.status === "error" && (!c.error || typeof c.error.message !== "string"))
    throw new InvalidArgumentError("A failed child step needs its error ({ message }).", { field: "error" });
  if (c.status === "ok" && typeof c.output !== "string")
    throw new InvalidArgumentError("An ok child step needs its result (output, serialised JSON).", { field: "output" });
  const name = names[names.length - 1]!;
  const parentChildId = names.length > 1 ? names.slice(0, -1).join("/") : undefined;
  return {
    attemptNumber: c.attemptNumber,
    childId: c.childId,
    name,
    ...(parentChildId !== undefined ? { parentChildId } : {}),
    status: c.status,
    startedAtUs: c.startedAtUs,
    durationUs: c.durationUs,
    ...(c.status === "ok" ? { output: c.output! } : { error: c.error! }),
  };
}

/** The record of a StepChild event. */
export function childStepOf(e: EventOf<"StepChild">): ChildStepRecord {
  return {
    stepId: e.stepId,
    childId: e.childId,
    name: e.name,
    ...(e.parentChildId !== undefined ? { parentChildId: e.parentChildId } : {}),
    attemptNumber: e.attemptNumber,
    status: e.status,
    startedAtUs: e.startedAtUs,
    durationUs: e.durationUs,
    recordedAtUs: e.timestampUs,
    ...(e.output !== undefined ? { output: e.output } : {}),
    ...(e.error ? { error: e.error } : {}),
    ...(e.errorFingerprints ? { errorFingerprints: e.errorFingerprints } : {}),
  };
}

/** The children a retry replays: per path, the newest `ok` record among `events` (a step's events, in order). */
export function finishedChildren(events: ReadonlyArray<{ type: string }>): SavedChildStep[] {
  const byPath = new Map<string, SavedChildStep>();
  for (const e of events) {
    if (e.type !== "StepChild") continue;
    const c = e as EventOf<"StepChild">;
    if (c.status === "ok" && c.output !== undefined)
      byPath.set(c.childId, { childId: c.childId, attemptNumber: c.attemptNumber, output: c.output });
  }
  return [...byPath.values()];
}
