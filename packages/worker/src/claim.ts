import type { Backend, ClaimedWork, StepRef } from "@cairn/backend-interface";
import type { LoadedWorkflow } from "./discovery.js";
import type { ClaimedStep } from "./execute-step.js";
import { RELEASE_ERROR_NAME } from "./record-outcome.js";

/**
 * Claims up to `limit` ready steps of the workflows this worker has loaded, each with what it needs to run (input,
 * dependency outputs, checkpoints: Backend.claimSteps). With one workflow loaded it claims straight away; with several
 * it lists candidates first, so that only workflows with ready steps are claimed from. Every claim is atomic in the
 * backend: of many workers, one wins.
 */
export async function claimReadySteps(backend: Backend, workerId: string, workflows: ReadonlyMap<string, LoadedWorkflow>, limit: number, concurrency: number): Promise<Array<Omit<ClaimedStep, "slot">>> {
  if (limit <= 0 || workflows.size === 0) return [];
  const only = workflows.size === 1 ? [...workflows.keys()][0]! : undefined;
  const slugs = only ? [only] : [...new Set((await backend.listScheduledSteps({ limit: limit * 3 + 5 })).map((c) => c.workflowSlug).filter((s) => workflows.has(s)))];
  const dependencies = (r: StepRef) => [...(workflows.get(r.workflowSlug)?.stepsById.get(r.stepId)?.definition.dependencies ?? [])];
  const out: Array<Omit<ClaimedStep, "slot">> = [];
  for (const slug of slugs) {
    if (out.length >= limit) break;
    for (const work of await backend.claimSteps(workerId, { limit: limit - out.length, workflowSlug: slug, dependencies, workerConcurrency: concurrency })) {
      const workflow = workflows.get(work.workflowSlug);
      const step = workflow?.stepsById.get(work.stepId);
      if (workflow && step) out.push({ workflowSlug: work.workflowSlug, runId: work.runId, stepId: work.stepId, attempt: work.attemptNumber, workflow, step, work });
      else await handBack(backend, workerId, work);
    }
  }
  return out;
}

/** A claimed step this worker does not know (another version of the workflow): released at once, not counted as a retry. */
async function handBack(backend: Backend, workerId: string, c: ClaimedWork): Promise<void> {
  const now = backend.clock.nowUs();
  await backend.saveStepFailedAndScheduleRetry(c.workflowSlug, c.runId, c.stepId, { name: RELEASE_ERROR_NAME, message: `worker ${workerId} does not know step ${c.stepId}; released` },
    { duration: 0, attemptNumber: c.attemptNumber, nextRetryAt: now, failureReason: "execution-error" }, { availableAt: now, nextAttemptNumber: c.attemptNumber + 1, retryDelayMs: 0, maxRetries: 0 }).catch(() => {});
}
