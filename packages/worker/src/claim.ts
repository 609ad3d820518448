import type { Backend, StepRef } from "@cairn/backend-interface";
import type { LoadedWorkflow } from "./discovery.js";
import type { ClaimedStep } from "./execute-step.js";
import { RELEASE_ERROR_NAME } from "./record-outcome.js";

/**
 * Claims up to `limit` ready steps of the workflows this worker has loaded. Lists candidates first so that steps of
 * workflows (or step ids) this worker does not know are never claimed; drivers with batch claims then claim per
 * workflow in one round trip (with a single workflow loaded, without listing first), others step by step. Every claim is atomic in the backend: of many workers, one wins.
 */
export async function claimReadySteps(backend: Backend, workerId: string, workflows: ReadonlyMap<string, LoadedWorkflow>, limit: number, concurrency: number): Promise<Array<Omit<ClaimedStep, "slot">>> {
  if (limit <= 0 || workflows.size === 0) return [];
  const known = (r: StepRef) => workflows.get(r.workflowSlug)?.stepsById.has(r.stepId) === true;
  const only = workflows.size === 1 ? [...workflows.keys()][0]! : undefined;
  // One workflow and batch claims: claim straight away (a listing would only tell which workflows have ready steps).
  const candidates = only && backend.capabilities.batchClaim ? [] : (await backend.listScheduledSteps({ limit: limit * 3 + 5, ...(only ? { workflowSlug: only } : {}) })).filter(known);
  const slugs = only && backend.capabilities.batchClaim ? [only] : [...new Set(candidates.map((c) => c.workflowSlug))];
  const dependencies = (r: StepRef) => [...(workflows.get(r.workflowSlug)?.stepsById.get(r.stepId)?.definition.dependencies ?? [])];
  const out: Array<Omit<ClaimedStep, "slot">> = [];
  const add = (r: StepRef & { attemptNumber: number }) => {
    const workflow = workflows.get(r.workflowSlug);
    const step = workflow?.stepsById.get(r.stepId);
    if (workflow && step) out.push({ workflowSlug: r.workflowSlug, runId: r.runId, stepId: r.stepId, attempt: r.attemptNumber, workflow, step });
  };
  if (backend.capabilities.batchClaim) {
    for (const slug of slugs) {
      if (out.length >= limit) break;
      const claimed = await backend.claimScheduledSteps(workerId, { limit: limit - out.length, workflowSlug: slug, dependencies });
      for (const c of claimed) {
        if (known(c)) { add(c); continue; }
        // A batch claim may pick a step id this worker does not know (another version of the workflow): hand it straight back.
        const now = backend.clock.nowUs();
        await backend.saveStepFailedAndScheduleRetry(c.workflowSlug, c.runId, c.stepId, { name: RELEASE_ERROR_NAME, message: `worker ${workerId} does not know step ${c.stepId}; released` },
          { duration: 0, attemptNumber: c.attemptNumber, nextRetryAt: now, failureReason: "execution-error" }, { availableAt: now, nextAttemptNumber: c.attemptNumber + 1, retryDelayMs: 0, maxRetries: 0 }).catch(() => {});
      }
    }
    return out;
  }
  for (const ref of candidates) {
    if (out.length >= limit) break;
    const claimed = await backend.claimScheduledStep(ref.workflowSlug, ref.runId, ref.stepId, workerId, { dependencies: dependencies(ref), timestamp: backend.clock.nowUs(), attemptNumber: 0, workerConcurrency: concurrency });
    if (claimed) add({ ...ref, attemptNumber: claimed.attemptNumber });
  }
  return out;
}
