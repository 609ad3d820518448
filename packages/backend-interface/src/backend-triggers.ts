import { isValidIdentifier } from "./identifiers.js";
import { randomUUID } from "node:crypto";
import type { BackendDriver } from "./backend-driver.js";
import { BackendRetentionPolicies } from "./backend-retention-policies.js";
import { InvalidArgumentError } from "./errors.js";
import { jsonValueProblem } from "./json-value.js";
import { eventNameProblem } from "./schedule-spec.js";
import type { RunSubmissionInput } from "./submission.js";

/** What emit accepts beyond the event's name and payload. */
export interface EmitOptions {
  /** The event's id: emitting the same event name and id again starts nothing new. Absent: a fresh id. */
  id?: string;
}

/** A run an emit started, or found already started for the same event id. */
export interface TriggeredRun {
  workflowSlug: string;
  runId: string;
  /** False when the run was started by an earlier emit of the same event id. */
  isNew: boolean;
}

/** What emit did: the event's id (the given one or the fresh one) and one run per listening workflow. */
export interface EmitResult {
  eventId: string;
  runs: TriggeredRun[];
  /** Runs with a step waiting for this event (`ctx.waitForEvent(eventName)`) that the emit delivered it to. */
  wokenRunIds: string[];
}

/** The idempotency key of the run an event starts in each listening workflow (keys are scoped to their workflow). */
export function eventIdempotencyKey(eventName: string, eventId: string): string {
  return `event:${eventName}:${eventId}`;
}

/**
 * The event-trigger layer of Backend: `emit` starts a run of every registered workflow whose `on` lists the event,
 * with the payload as input, in one batch submission (one store write where the driver has the batch path), each
 * run idempotent by the event's name and id.
 */
export abstract class BackendTriggers<D extends BackendDriver = BackendDriver> extends BackendRetentionPolicies<D> {
  /**
   * Emits the event `eventName` with `payload` (any JSON value; the input of each run it starts). Every check comes
   * before any write: an invalid name, id or payload (not JSON: a function, a BigInt, a cycle, NaN) is an
   * InvalidArgumentError, and a payload a listener's input schema rejects is that listener's InvalidInputError; then
   * nothing is written. The same name and id again returns the runs it started the first time (isNew false); with a
   * different payload, IdempotencyConflictError. No listener: no run, and the result's `runs` is empty.
   */
  async emit(eventName: string, payload?: unknown, options: EmitOptions = {}): Promise<EmitResult> {
    this.assertOpen();
    const nameProblem = eventNameProblem(eventName);
    if (nameProblem) throw new InvalidArgumentError(`Cannot emit: ${nameProblem}.`);
    const eventId = options?.id ?? `evt-${randomUUID()}`;
    checkEventId(eventId);
    const payloadProblem = jsonValueProblem(payload, "payload");
    if (payloadProblem)
      throw new InvalidArgumentError(
        `Cannot emit ${eventName}: ${payloadProblem}. Pass a JSON value (object, array, string, number, boolean or null).`,
      );
    const listeners = (await this.listWorkflowMetadata()).filter((w) => w.on?.includes(eventName));
    const items: RunSubmissionInput[] = listeners.map((w) => ({
      workflowSlug: w.slug,
      ...(payload === undefined ? {} : { input: payload }),
      idempotencyKey: eventIdempotencyKey(eventName, eventId),
      metadata: { trigger: { event: eventName, eventId } },
    }));
    // All or nothing on bad input: every item is checked (registration, input schema) before the one batch write.
    const nowUs = this.clock.nowUs();
    for (const item of items) await this.prepareChecked(item, nowUs);
    const outcomes = items.length ? await this.submitRuns(items) : [];
    const runs: TriggeredRun[] = [];
    for (const [k, o] of outcomes.entries()) {
      if (!o.ok) throw o.error;
      runs.push({ workflowSlug: items[k]!.workflowSlug, runId: o.runId, isNew: o.isNew });
    }
    // The same emit wakes runs whose waitForEvent matches (a signal of the event's name, idempotent by the event id).
    const wokenRunIds =
      isValidIdentifier("workflowSlug", eventName) && isValidIdentifier("workflowSlug", eventId)
        ? (await this.signalWaiting(eventName, payload, { id: eventId })).runIds
        : [];
    return { eventId, runs, wokenRunIds };
  }
}

function checkEventId(id: unknown): void {
  const ok = typeof id === "string" && id.length > 0 && id.length <= 200 && !/[\u0000-\u001f]/.test(id);
  if (!ok)
    throw new InvalidArgumentError(
      `An event id must be a non-empty string of at most 200 characters without control characters, got ${JSON.stringify(id)}.`,
    );
}
