import { z } from "zod";
import type { EventOf } from "./events.js";
import { InvalidEventError } from "./errors.js";
import { assertIds } from "./identifiers.js";
import { assertTenantId, tenantIdempotencyKey } from "./tenants.js";
import { newEventId, newRunId } from "./ids.js";
import { RunSubmissionSchema } from "./schemas.js";
import { serializeValue } from "./serialize.js";
import { parseEvent, zodIssues } from "./validate-event.js";

/** What submitRun accepts. */
export type RunSubmissionInput = z.input<typeof RunSubmissionSchema>;

/** Validates and serialises a submission into its RunSubmitted event, before any I/O. Throws typed errors; writes nothing. */
export function prepareSubmission(
  submission: RunSubmissionInput,
  nowUs: number,
): { event: EventOf<"RunSubmitted">; input: string | undefined } {
  if (submission === null || typeof submission !== "object")
    throw new InvalidEventError("Invalid run submission", [{ path: "", message: "must be an object" }]);
  assertIds({ workflowSlug: submission.workflowSlug, runId: submission.runId, versionId: submission.versionId });
  if (submission.tenantId !== undefined) assertTenantId(submission.tenantId);
  const parsed = RunSubmissionSchema.safeParse(submission);
  if (!parsed.success)
    throw new InvalidEventError(
      `Invalid submission of workflow ${String(submission.workflowSlug)}`,
      zodIssues(parsed.error),
    );
  const s = parsed.data;
  const input = "input" in submission && submission.input !== undefined ? serializeValue(submission.input) : undefined;
  const runId = s.runId ?? newRunId(nowUs);
  const event = parseEvent({
    eventId: newEventId(nowUs),
    timestampUs: nowUs,
    workflowSlug: s.workflowSlug,
    runId,
    category: "workflow",
    type: "RunSubmitted",
    availableAtUs: s.availableAtUs ?? nowUs,
    priority: s.priority ?? 0,
    hasInputSchema: s.hasInputSchema ?? false,
    ...(input === undefined ? {} : { input }),
    ...(s.timeoutUs === undefined ? {} : { timeoutUs: s.timeoutUs }),
    ...(s.idempotencyKey === undefined
      ? {}
      : {
          idempotencyKey:
            s.tenantId === undefined ? s.idempotencyKey : tenantIdempotencyKey(s.tenantId, s.idempotencyKey),
        }),
    ...(s.metadata ? { metadata: s.metadata } : {}),
    ...(s.tags ? { tags: s.tags } : {}),
    ...(s.versionId ? { versionId: s.versionId } : {}),
    ...(s.tenantId !== undefined ? { tenantId: s.tenantId } : {}),
    ...(s.runType === undefined ? {} : { runType: s.runType }),
    ...(s.trigger === undefined ? {} : { trigger: s.trigger }),
  }) as EventOf<"RunSubmitted">;
  return { event, input };
}
