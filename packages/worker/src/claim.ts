import type { Backend, ClaimScope, ClaimedWork } from "@cairn/backend-interface";
import type { LoadedWorkflow } from "./discovery.js";
import type { ClaimedStep } from "./execute-step.js";
import { RELEASE_ERROR_NAME } from "./record-outcome.js";

/**
 * Claims up to `limit` ready steps of the workflows this worker has loaded, each with what it needs to run (input,
 * dependency outputs, checkpoints: Backend.claimSteps), in one call for all of them. Every claim is atomic in the
 * backend: of many workers, one wins. A claimed step the worker does not know (another version) is handed back.
 */
export async function claimReadySteps(
  backend: Backend,
  workerId: string,
  workflows: ReadonlyMap<string, LoadedWorkflow>,
  limit: number,
): Promise<Array<Omit<ClaimedStep, "slot">>> {
  if (limit <= 0 || workflows.size === 0) return [];
  const out: Array<Omit<ClaimedStep, "slot">> = [];
  for (const work of await backend.claimSteps(workerId, { limit, workflows: scopeOf(workflows) })) {
    const workflow = workflows.get(work.workflowSlug);
    const step = workflow?.stepsById.get(work.stepId);
    if (workflow && step)
      out.push({
        workflowSlug: work.workflowSlug,
        runId: work.runId,
        stepId: work.stepId,
        attempt: work.attemptNumber,
        workflow,
        step,
        work,
      });
    else await handBack(backend, workerId, work);
  }
  return out;
}

const scopes = new WeakMap<ReadonlyMap<string, LoadedWorkflow>, ClaimScope>();

/** The claim scope of a set of loaded workflows (computed once per set). */
function scopeOf(workflows: ReadonlyMap<string, LoadedWorkflow>): ClaimScope {
  let scope = scopes.get(workflows);
  if (!scope) {
    scope = Object.fromEntries(
      [...workflows].map(([slug, wf]) => [
        slug,
        Object.fromEntries(wf.steps.map((s) => [s.id, [...s.definition.dependencies]])),
      ]),
    );
    scopes.set(workflows, scope);
  }
  return scope;
}

/** A claimed step this worker does not know (another version of the workflow): released at once, not counted as a retry. */
async function handBack(backend: Backend, workerId: string, c: ClaimedWork): Promise<void> {
  const now = backend.clock.nowUs();
  await backend
    .saveStepFailedAndScheduleRetry(
      c.workflowSlug,
      c.runId,
      c.stepId,
      { name: RELEASE_ERROR_NAME, message: `worker ${workerId} does not know step ${c.stepId}; released` },
      { duration: 0, attemptNumber: c.attemptNumber, nextRetryAt: now, failureReason: "execution-error" },
      { availableAt: now, nextAttemptNumber: c.attemptNumber + 1, retryDelayMs: 0, maxRetries: 0 },
    )
    .catch(() => {});
}
