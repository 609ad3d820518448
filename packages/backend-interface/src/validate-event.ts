import type { z } from "zod";
import { EventSchema, type Event } from "./events.js";
import { InvalidEventError } from "./errors.js";
import { assertIds } from "./identifiers.js";

/** Converts zod issues into `{path, message}` pairs. */
export function zodIssues(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}

/**
 * Validates an event and returns a normalised copy (unknown keys dropped); the caller's object is never mutated.
 * Throws InvalidIdentifierError for malformed ids and InvalidEventError for anything else.
 */
export function parseEvent(input: unknown): Event {
  const raw = input as Record<string, unknown> | null;
  if (raw && typeof raw === "object") {
    const versioned = raw.type === "RunSubmitted" || raw.type === "WorkflowStarted";
    assertIds({
      workflowSlug: raw.workflowSlug,
      runId: raw.runId,
      stepId: raw.category === "step" ? raw.stepId : undefined,
      versionId: versioned ? raw.versionId : undefined,
    });
  }
  const result = EventSchema.safeParse(input);
  if (!result.success) {
    const type = raw && typeof raw === "object" ? String(raw.type) : typeof input;
    throw new InvalidEventError(`Invalid ${type} event`, zodIssues(result.error), {
      runId: typeof raw?.runId === "string" ? raw.runId : undefined,
    });
  }
  return result.data;
}

/** Validates an event that must belong to the given run (and step, for step events). */
export function parseEventFor(workflowSlug: string, runId: string, input: unknown): Event {
  const ev = parseEvent(input);
  if (ev.workflowSlug !== workflowSlug || ev.runId !== runId) {
    throw new InvalidEventError("Event does not belong to the run it is appended to", [
      { path: "runId", message: `event is for ${ev.workflowSlug}/${ev.runId}, appended to ${workflowSlug}/${runId}` },
    ]);
  }
  return ev;
}
