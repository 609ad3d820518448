import type { Event, EventBody, EventOf, EventType } from "./events.js";
import { InvalidArgumentError, StepNotFoundError } from "./errors.js";
import { assertStepId } from "./identifiers.js";
import { newRunId } from "./ids.js";
import type { RunState } from "./run-state.js";
import type { StepDefinition } from "./schemas.js";
import { serializeValue } from "./serialize.js";
import type { StepState } from "./step-state.js";

/** Options of rerunFrom. */
export interface RerunOptions {
  parentRunId: string;
  fromStepId: string;
  /** Replaces the parent's input when given. */
  input?: unknown;
  /** Id of the new run; generated when absent. */
  runId?: string;
}

type MakeEvent = <T extends EventType>(
  type: T,
  runId: string,
  stepId: string | undefined,
  body: EventBody<T>,
) => EventOf<T>;

/** `fromStepId` and every step that depends on it, transitively. */
export function transitiveDependents(fromStepId: string, dependencies: Map<string, string[]>): Set<string> {
  const out = new Set([fromStepId]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [id, deps] of dependencies)
      if (!out.has(id) && deps.some((d) => out.has(d))) {
        out.add(id);
        grew = true;
      }
  }
  return out;
}

/**
 * Pure: the events of a rerun. The child gets its own RunSubmitted (its own createdAt, the input override if given),
 * a WorkflowRerunFromStep, and copies of the parent's completed/skipped results outside the rerun set, verbatim and
 * marked `copiedFromRunId` so analytics do not count them twice. It starts pending.
 */
export function planRerun(
  parent: RunState,
  steps: StepState[],
  definitions: StepDefinition[],
  options: RerunOptions,
  nowUs: number,
  make: MakeEvent,
): { submitted: EventOf<"RunSubmitted">; extra: Event[]; rerunStepIds: string[] } {
  assertStepId(options.fromStepId, "fromStepId");
  const dependencies = new Map<string, string[]>();
  for (const d of definitions) dependencies.set(d.id, d.dependencies);
  for (const s of steps) if (!dependencies.has(s.stepId)) dependencies.set(s.stepId, s.dependencies);
  if (!dependencies.has(options.fromStepId))
    throw new StepNotFoundError(parent.workflowSlug, parent.runId, options.fromStepId);
  const rerunSet = transitiveDependents(options.fromStepId, dependencies);
  const runId = options.runId ?? newRunId(nowUs);
  if (runId === parent.runId) throw new InvalidArgumentError("A rerun needs a run id of its own.");
  const input = "input" in options && options.input !== undefined ? serializeValue(options.input) : parent.input;
  const submitted = make("RunSubmitted", runId, undefined, {
    availableAtUs: nowUs,
    priority: parent.priority,
    hasInputSchema: parent.hasInputSchema,
    parentRunId: parent.runId,
    ...(input === undefined ? {} : { input }),
    ...(parent.timeoutUs ? { timeoutUs: parent.timeoutUs } : {}),
    ...(parent.metadata ? { metadata: parent.metadata } : {}),
    ...(parent.tags.length ? { tags: parent.tags } : {}),
    ...(parent.versionId ? { versionId: parent.versionId } : {}),
    ...(parent.tenantId !== undefined ? { tenantId: parent.tenantId } : {}),
  });
  const rerunStepIds = [...rerunSet].sort();
  const extra: Event[] = [
    make("WorkflowRerunFromStep", runId, undefined, {
      parentRunId: parent.runId,
      rerunFromStepId: options.fromStepId,
      rerunStepIds,
    }),
  ];
  for (const s of steps) {
    if (rerunSet.has(s.stepId)) continue;
    if (s.status === "completed" && s.output !== undefined) {
      extra.push(
        make("StepCompleted", runId, s.stepId, {
          output: s.output,
          durationUs: s.durationUs ?? 0,
          attemptNumber: Math.max(1, s.attemptNumber),
          exportOutput: s.exportOutput ?? false,
          copiedFromRunId: parent.runId,
        }),
      );
    } else if (s.status === "skipped") {
      extra.push(
        make("StepSkipped", runId, s.stepId, {
          skipType: s.skipType ?? "primary",
          reason: s.skipReason ?? "copied from parent run",
          durationUs: s.durationUs ?? 0,
          attemptNumber: s.attemptNumber,
          copiedFromRunId: parent.runId,
          ...(s.cascadedFrom ? { cascadedFrom: s.cascadedFrom } : {}),
        }),
      );
    }
  }
  return { submitted, extra, rerunStepIds };
}
