import { z } from "zod";
import { CallUsageSchema, type EventOf } from "./events.js";
import { InvalidArgumentError } from "./errors.js";
import type { StepError } from "./schemas.js";
import { serializeValue } from "./serialize.js";
import { validateChildPath } from "./child-steps.js";

/** The longest output summary a call keeps (characters of the output's JSON text); the rest is cut, never stored. */
export const CALL_OUTPUT_SUMMARY_CHARS = 512;
/** The longest tool name. */
export const CALL_TOOL_MAX = 200;
/** The longest operation. */
export const CALL_OPERATION_MAX = 500;

/** AI usage of one call: the model and its token counts (and cost in US dollars when known). */
export type CallUsage = z.infer<typeof CallUsageSchema>;

/** What a call is: the tool it used ("stripe_api") and the operation ("GET /charges"). */
export interface CallSpec {
  tool: string;
  operation: string;
}

/** One call as a step (or the tracker) reports it to the backend once it ended. */
export interface CallInput extends CallSpec {
  /** The attempt that made the call. */
  attemptNumber: number;
  /** When the call started (µs). */
  startedAtUs: number;
  /** How long it took (µs). */
  durationUs: number;
  outcome: "ok" | "error";
  /** A summary of the output (see summarizeOutput); cut to CALL_OUTPUT_SUMMARY_CHARS again by the backend. */
  outputSummary?: string;
  /** Size of the whole output's JSON text in bytes. */
  outputBytes?: number;
  /** The error of a failed call (fingerprinted by the backend). */
  error?: StepError;
  usage?: CallUsage;
  /** The child step (`ctx.step`) that made the call, as its path (`load/parse`); absent: the step itself. */
  childId?: string;
}

/** A recorded call, as `loadStepCalls` returns it. */
export interface CallRecord extends CallInput {
  callId: string;
  stepId: string;
  /** When the call was stored (µs); analytics windows select on it. */
  recordedAtUs: number;
  errorFingerprints?: EventOf<"StepCall">["errorFingerprints"];
}

const NO_NUL = /\u0000/;

/** Checks a call's tool and operation; throws InvalidArgumentError naming the field. Done before the call runs. */
export function validateCallSpec(spec: unknown): CallSpec {
  if (spec === null || typeof spec !== "object")
    throw new InvalidArgumentError(
      'A call needs { tool, operation }, e.g. { tool: "stripe_api", operation: "GET /charges" }.',
    );
  const { tool, operation } = spec as Partial<CallSpec>;
  for (const [field, value, max] of [
    ["tool", tool, CALL_TOOL_MAX],
    ["operation", operation, CALL_OPERATION_MAX],
  ] as const) {
    if (typeof value !== "string" || value.trim().length === 0)
      throw new InvalidArgumentError(
        `A call's ${field} must be a non-empty string, got ${JSON.stringify(value) ?? String(value)}.`,
        { field },
      );
    if (value.length > max || NO_NUL.test(value))
      throw new InvalidArgumentError(`A call's ${field} must be at most ${max} characters without NUL characters.`, {
        field,
      });
  }
  return { tool: tool as string, operation: operation as string };
}

/** Checks AI usage: a model name and non-negative integer token counts, an optional non-negative finite cost. */
export function validateCallUsage(usage: unknown): CallUsage {
  const parsed = CallUsageSchema.safeParse(usage);
  if (!parsed.success || (usage as { model?: string }).model?.match(NO_NUL)) {
    const issue = parsed.success
      ? "model: NUL character"
      : parsed.error.issues.map((i) => `${i.path.join(".") || "usage"}: ${i.message}`).join("; ");
    throw new InvalidArgumentError(
      `Invalid call usage (${issue}); expected { model: string, inputTokens: integer >= 0, outputTokens: integer >= 0, costUsd?: number >= 0 }.`,
      { field: "usage" },
    );
  }
  const u = parsed.data;
  return {
    model: u.model,
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    ...(u.costUsd !== undefined ? { costUsd: u.costUsd } : {}),
  };
}

const nonNegInt = (v: unknown): boolean => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Checks a whole reported call (spec, attempt, times, outcome, usage); throws InvalidArgumentError, so nothing is written. */
export function validateCallInput(call: CallInput): CallInput {
  const spec = validateCallSpec(call);
  if (!nonNegInt(call.attemptNumber) || call.attemptNumber < 1)
    throw new InvalidArgumentError(
      `A call's attemptNumber must be a positive integer, got ${String(call.attemptNumber)}.`,
      { field: "attemptNumber" },
    );
  for (const k of ["startedAtUs", "durationUs"] as const) {
    if (!nonNegInt(call[k]))
      throw new InvalidArgumentError(`A call's ${k} must be a non-negative integer of µs, got ${String(call[k])}.`, {
        field: k,
      });
  }
  if (call.outcome !== "ok" && call.outcome !== "error")
    throw new InvalidArgumentError(`A call's outcome must be "ok" or "error", got ${JSON.stringify(call.outcome)}.`, {
      field: "outcome",
    });
  if (call.outcome === "error" && (!call.error || typeof call.error.message !== "string"))
    throw new InvalidArgumentError("A failed call needs its error ({ message }).", { field: "error" });
  if (call.outputBytes !== undefined && !nonNegInt(call.outputBytes))
    throw new InvalidArgumentError(
      `A call's outputBytes must be a non-negative integer, got ${String(call.outputBytes)}.`,
      { field: "outputBytes" },
    );
  if (call.outputSummary !== undefined && typeof call.outputSummary !== "string")
    throw new InvalidArgumentError("A call's outputSummary must be a string.", { field: "outputSummary" });
  if (call.childId !== undefined) validateChildPath(call.childId);
  return {
    ...spec,
    attemptNumber: call.attemptNumber,
    startedAtUs: call.startedAtUs,
    durationUs: call.durationUs,
    outcome: call.outcome,
    ...(call.outputSummary !== undefined ? { outputSummary: cutSummary(call.outputSummary) } : {}),
    ...(call.outputBytes !== undefined ? { outputBytes: call.outputBytes } : {}),
    ...(call.outcome === "error" && call.error ? { error: call.error } : {}),
    ...(call.usage !== undefined ? { usage: validateCallUsage(call.usage) } : {}),
    ...(call.childId !== undefined ? { childId: call.childId } : {}),
  };
}

function cutSummary(text: string): string {
  const t = withoutNul(text);
  return t.length <= CALL_OUTPUT_SUMMARY_CHARS ? t : `${t.slice(0, CALL_OUTPUT_SUMMARY_CHARS - 1)}…`;
}

/** The text with NUL characters replaced by U+FFFD (StepCall text never holds NUL; see events.ts). */
export function withoutNul(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}

/** A bounded summary of a call's output: its JSON text cut to CALL_OUTPUT_SUMMARY_CHARS, and the whole text's size. */
export function summarizeOutput(value: unknown): { outputSummary: string; outputBytes: number } {
  const text = serializeValue(value);
  return { outputSummary: cutSummary(text), outputBytes: Buffer.byteLength(text, "utf8") };
}

/** The record of a StepCall event. */
export function callRecordOf(e: EventOf<"StepCall">): CallRecord {
  return {
    callId: e.callId,
    stepId: e.stepId,
    recordedAtUs: e.timestampUs,
    attemptNumber: e.attemptNumber,
    tool: e.tool,
    operation: e.operation,
    startedAtUs: e.startedAtUs,
    durationUs: e.durationUs,
    outcome: e.outcome,
    ...(e.outputSummary !== undefined ? { outputSummary: e.outputSummary } : {}),
    ...(e.outputBytes !== undefined ? { outputBytes: e.outputBytes } : {}),
    ...(e.error ? { error: e.error } : {}),
    ...(e.errorFingerprints ? { errorFingerprints: e.errorFingerprints } : {}),
    ...(e.usage ? { usage: e.usage } : {}),
    ...(e.childId !== undefined ? { childId: e.childId } : {}),
  };
}
