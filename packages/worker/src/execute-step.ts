import { deserializeValue, type Backend, type LogEntry, type StepRef } from "@cairn/backend-interface";
import type { Completion } from "./completions.js";
import type { LoadedStep, LoadedWorkflow } from "./discovery.js";
import { startHeartbeat } from "./heartbeat.js";
import { validateInput } from "./input-validation.js";
import { recordOutcome, type Recorded } from "./record-outcome.js";
import type { RunCache } from "./run-cache.js";
import type { StepIO } from "./step-context.js";
import { settleWithin, type StepJob, type StepOutcome, type StepRunner } from "./step-runner.js";
import type { AbortReason, WorkerEvents } from "./worker-events.js";

/** A step this worker claimed. */
export interface ClaimedStep extends StepRef {
  attempt: number;
  slot: number;
  workflow: LoadedWorkflow;
  step: LoadedStep;
}

/** What executeStep shares with the rest of the worker. */
export interface ExecuteEnv {
  backend: Backend;
  workerId: string;
  concurrency: number;
  events: WorkerEvents;
  runner: StepRunner;
  heartbeatMs: number;
  /** How long an aborted step may take to settle before it is abandoned. */
  abortGraceMs: number;
  /** Aborts when the worker releases its running steps (shutdown after the grace period). */
  releaseSignal: AbortSignal;
  random: () => number;
  /** What this worker knows of its runs: the input and dependency outputs come from here when known. */
  cache?: RunCache;
  /** Writes a completion (the worker batches them); default Backend.saveStepComplete. */
  complete?: (c: Completion) => Promise<void>;
}

/** How an attempt ended for the worker: what was recorded (`error`: recording failed), and the step's outcome. */
export interface Executed {
  recorded: Recorded | "error";
  outcome?: StepOutcome;
}

/** An aborted attempt's signal reason. */
export class StepAbortedError extends Error {
  constructor(readonly reason: AbortReason) {
    super(`step aborted: ${reason}`);
    this.name = reason === "timeout" ? "TimeoutError" : "AbortError";
  }
}

/**
 * Runs one claimed attempt: loads its input, dependency outputs and checkpoints, heartbeats while it runs, enforces
 * its timeout, aborts it on cancel / lost lease / release, and records the outcome. Never throws.
 */
export async function executeStep(c: ClaimedStep, env: ExecuteEnv): Promise<Executed> {
  const { backend, events } = env;
  const ref: StepRef = { workflowSlug: c.workflowSlug, runId: c.runId, stepId: c.stepId };
  const startedUs = backend.clock.nowUs();
  const controller = new AbortController();
  let abortReason: AbortReason | undefined;
  const abort = (reason: AbortReason): void => {
    if (abortReason) return;
    abortReason = reason;
    events.emit({ type: "step:aborted", ...ref, attempt: c.attempt, reason });
    controller.abort(new StepAbortedError(reason));
  };
  const logs: LogEntry[] = [];
  const flushLogs = async (): Promise<void> => {
    const batch = logs.splice(0);
    if (batch.length) await backend.saveStepLogs(c.workflowSlug, c.runId, c.stepId, batch);
  };
  const io: StepIO = {
    log: (stream, message) => { logs.push({ timestampUs: backend.clock.nowUs(), stream, message, attemptNumber: c.attempt }); },
    progress: (fraction, message) => events.emit({ type: "step:progress", ...ref, attempt: c.attempt, fraction, ...(message ? { message } : {}) }),
    saveCheckpoint: (name, sequenceNumber, data) => backend.saveStepCheckpoint(c.workflowSlug, c.runId, c.stepId, { name, sequenceNumber, attemptNumber: c.attempt, data }),
    saveCheckpointFailed: (name, sequenceNumber, error) => backend.saveStepCheckpointFailed(c.workflowSlug, c.runId, c.stepId, { name, sequenceNumber, attemptNumber: c.attempt, error }),
  };
  const onRelease = (): void => abort("shutdown");
  if (env.releaseSignal.aborted) onRelease();
  else env.releaseSignal.addEventListener("abort", onRelease, { once: true });
  const stopHeartbeat = startHeartbeat({
    backend, ref, workerId: env.workerId, attempt: c.attempt, intervalMs: env.heartbeatMs, slot: c.slot, concurrency: env.concurrency,
    beforeBeat: flushLogs, onLost: (reason) => abort(reason), onError: (error) => events.emit({ type: "error", where: `heartbeat ${c.runId}/${c.stepId}`, error }),
  });
  const timeoutMs = c.step.definition.timeoutMs;
  const timer = timeoutMs ? setTimeout(() => abort("timeout"), timeoutMs) : undefined;
  let outcome: StepOutcome | undefined;
  try {
    try {
      const job = await prepareJob(backend, c, env.cache);
      outcome = await settleWithin(env.runner(job, c.step.declaration, io, controller.signal), controller.signal, env.abortGraceMs);
    } catch (err) {
      outcome = { kind: "failed", error: { name: "StepSetupError", message: `could not prepare the step: ${err instanceof Error ? err.message : String(err)}` } };
    }
    clearTimeout(timer);
    stopHeartbeat();
    const recorded = await recordOutcome(backend, events, { ref, step: c.step, attempt: c.attempt, startedUs, logs, ...(abortReason ? { abortReason } : {}), ...(env.complete ? { complete: env.complete } : {}) }, outcome, env.random);
    return { recorded, outcome };
  } catch (err) {
    events.emit({ type: "error", where: `record ${c.runId}/${c.stepId}`, error: err });
    return { recorded: "error", ...(outcome ? { outcome } : {}) };
  } finally {
    clearTimeout(timer);
    stopHeartbeat();
    env.releaseSignal.removeEventListener("abort", onRelease);
  }
}

/**
 * Loads what the step function receives: the (schema-parsed) run input, its dependencies' outputs and saved
 * checkpoints. The input and outputs come from the worker's run cache when it knows them (a completed step's output
 * never changes), else from one read of the run, which then fills the cache. Only a retried attempt can have
 * checkpoints (attempt 1 of a step never ran before), so they are read for attempts after the first only.
 */
async function prepareJob(backend: Backend, c: ClaimedStep, cache: RunCache | undefined): Promise<StepJob> {
  const deps = c.step.definition.dependencies;
  let known = cache?.get(c.runId);
  const missing = !known || deps.some((d) => { const s = known!.steps.get(d); return s?.status !== "completed" || s.output === undefined; });
  const [run, steps, checkpoints] = await Promise.all([
    known ? known.run : backend.getRun(c.runId),
    missing ? backend.loadRun(c.workflowSlug, c.runId) : undefined,
    c.attempt > 1 ? backend.loadStepCheckpoints(c.workflowSlug, c.runId, c.stepId) : [],
  ]);
  if (cache && run) known = cache.put(run, steps);
  const raw = deserializeValue(run?.input);
  const parsed = await validateInput(c.workflow.schema, raw);
  const byId = new Map(steps?.map((s) => [s.stepId, s.output]));
  const depOutputs: Record<string, unknown> = {};
  for (const d of deps) depOutputs[d] = deserializeValue(steps ? byId.get(d) : known?.steps.get(d)?.output);
  return { workflowSlug: c.workflowSlug, runId: c.runId, stepId: c.stepId, attempt: c.attempt, file: c.step.file, input: parsed.success ? parsed.value : raw, deps: depOutputs, checkpoints };
}
