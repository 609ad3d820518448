import type { BackendDriver } from "./backend-driver.js";
import { BackendRuns } from "./backend-runs.js";
import { checkpointsOf } from "./backend-step-data.js";
import { finishedChildren, type SavedChildStep } from "./child-steps.js";
import type { SavedCheckpoint } from "./backend-core.js";
import type { ClaimOptions } from "./backend-steps.js";
import type { StepRef } from "./backend-primitives.js";
import { InvalidArgumentError } from "./errors.js";

/** A claimed step with what it needs to run: no further read is needed before executing it. */
export interface ClaimedWork extends StepRef {
  attemptNumber: number;
  /** The run's version (its DAG), when it is store-driven. */
  versionId?: string;
  /** The run's workflow attempt (1 unless the run was retried). */
  workflowAttemptNumber: number;
  /** The run's input, serialised (undefined when it has none). */
  input?: string;
  /** The serialised outputs of the step's dependencies (of every completed step when the dependencies are unknown). */
  dependencyOutputs: Record<string, string | undefined>;
  /** Checkpoints saved by earlier attempts (empty for a first attempt). */
  checkpoints: SavedCheckpoint[];
  /** Child steps (`ctx.step`) that earlier attempts finished, replayed instead of run again (empty for a first attempt). */
  children: SavedChildStep[];
  /** The run's state (`ctx.state`: resume patches merged), serialised; absent when none was given. */
  state?: string;
  /** The signals the store gave this step (consumed by its waits), in order, payloads serialised. */
  signals?: Array<{ name: string; payload: string }>;
}

/** What one maintenance round did. */
export interface MaintenanceResult {
  reclaimed: StepRef[];
  /** Runs started because they became available. */
  started: string[];
  /** Runs failed because their timeout passed. */
  timedOut: string[];
}

/**
 * The work layer of Backend: what a worker calls. It claims steps with their inputs, and runs one bounded round of
 * maintenance (reclaim stale steps, start runs that became available, fail runs past their timeout); everything else
 * a run needs happens inside the store's writes.
 */
export abstract class BackendWork<D extends BackendDriver = BackendDriver> extends BackendRuns<D> {
  /**
   * Claims up to `limit` ready steps (atomically, as claimScheduledSteps) and returns each with its run's input, its
   * dependencies' outputs and, for a retry, the checkpoints and finished child steps of earlier attempts.
   */
  async claimSteps(workerId: string, options: ClaimOptions): Promise<ClaimedWork[]> {
    const claimed = await this.claimReady(workerId, options, true);
    if (claimed.length === 0) return [];
    const contexts = new Map(claimed.flatMap((c) => (c.context ? [[c.runId, c.context] as const] : [])));
    const missing = [...new Set(claimed.filter((c) => !contexts.has(c.runId)).map((c) => c.runId))];
    if (missing.length) for (const [id, ctx] of await this.readRunContexts(missing)) contexts.set(id, ctx);
    return Promise.all(
      claimed.map(async (c): Promise<ClaimedWork> => {
        const ctx = contexts.get(c.runId);
        const run = ctx?.run;
        const deps =
          options.dependencies?.(c) ??
          options.workflows?.[c.workflowSlug]?.[c.stepId] ??
          (run?.versionId
            ? (await this.loadDag(c.workflowSlug, run.versionId))?.steps.find((s) => s.id === c.stepId)?.dependencies
            : undefined);
        const dependencyOutputs: Record<string, string | undefined> = {};
        for (const s of ctx?.steps ?? [])
          if (s.status === "completed" && (deps === undefined || deps.includes(s.stepId)))
            dependencyOutputs[s.stepId] = s.output;
        for (const d of deps ?? []) if (!(d in dependencyOutputs)) dependencyOutputs[d] = undefined;
        const signals = (run?.signals ?? [])
          .filter((g) => g.consumedBy?.stepId === c.stepId)
          .map((g) => ({ name: g.name, payload: g.payload }));
        // A retry replays what earlier attempts saved: checkpoints and finished child steps, from one read of the step's events.
        const earlier =
          c.attemptNumber > 1
            ? await this.loadEvents(c.workflowSlug, c.runId, { category: "step", stepId: c.stepId })
            : [];
        const { context: _context, ...step } = c;
        return {
          ...step,
          ...(run?.state !== undefined ? { state: run.state } : {}),
          ...(signals.length ? { signals } : {}),
          workflowAttemptNumber: Math.max(1, run?.workflowAttemptNumber ?? 1),
          dependencyOutputs,
          checkpoints: checkpointsOf(earlier),
          children: finishedChildren(earlier),
          ...(run?.versionId ? { versionId: run.versionId } : {}),
          ...(run?.input !== undefined ? { input: run.input } : {}),
        };
      }),
    );
  }

  /**
   * One bounded round of upkeep, safe from any number of processes at once: reclaims steps whose heartbeat is older
   * than `staleMs`, starts up to `limit` store-driven runs that became available (longest due first, so no backlog of
   * later runs hides them), and fails up to `limit` runs past their timeout. Every change is one guarded write.
   */
  async maintain(options: { workerId: string; staleMs: number; limit?: number }): Promise<MaintenanceResult> {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1)
      throw new InvalidArgumentError(`limit must be a positive integer, got ${limit}.`);
    const reclaimed = await this.reclaimStaleSteps(options.staleMs, options.workerId);
    const started = await this.startDueRuns(limit);
    const timedOut = await this.advanceRuns(await this.store.queryOverdueRuns(this.clock.nowUs(), limit));
    return { reclaimed, started, timedOut };
  }

  /** Starts up to `limit` store-driven runs that became available (longest due first); returns their ids. One indexed read when none is due. */
  async startDueRuns(limit = 100): Promise<string[]> {
    if (!Number.isInteger(limit) || limit < 1)
      throw new InvalidArgumentError(`limit must be a positive integer, got ${limit}.`);
    const nowUs = this.clock.nowUs();
    const started = await this.advanceRuns(await this.store.queryDueRuns(nowUs, limit));
    for (const gate of await this.store.queryWaitingGates(nowUs, limit))
      started.push(...(await this.startGate(gate.workflowSlug, gate.flowKey, nowUs)));
    return started;
  }
}
