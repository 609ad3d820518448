import type { BackendDriver } from "./backend-driver.js";
import { BackendWorkflows } from "./backend-workflows.js";
import type { Event, EventOf } from "./events.js";
import type { GuardVerdict } from "./guards.js";
import { checkGuard } from "./guards.js";
import { assertIds, assertWorkflowSlug } from "./identifiers.js";
import type { LogEntry, StepError } from "./schemas.js";
import { logEntryBody } from "./backend-step-data.js";
import { DEFAULT_MAX_RETRIES } from "./schemas.js";
import {
  CairnError,
  InvalidArgumentError,
  InvalidEventError,
  RunTerminalError,
  StaleAttemptError,
  StepNotClaimableError,
} from "./errors.js";
import { computeErrorFingerprints } from "./fingerprint.js";
import type { ListScheduledOptions, StepRef, WriteTarget } from "./backend-primitives.js";
import type { ClaimedStep, ClaimRequest, ClaimScope } from "./backend-driver.js";
import { serializeValue } from "./serialize.js";
import { cleanError } from "./clean-error.js";
import type {
  StepStartMetadata,
  StepCompleteMetadata,
  StepCompleteItem,
  StepCompleteOutcome,
  GuardedWrite,
} from "./backend-core.js";

export type { ClaimScope } from "./backend-driver.js";

/** Options of claimScheduledSteps. */
export interface ClaimOptions {
  limit: number;
  /** Only steps of this workflow. */
  workflowSlug?: string;
  /** The dependencies recorded on each StepStarted. */
  dependencies?: (ref: StepRef) => string[];
  /** Only steps of these workflows, with their dependencies (instead of `workflowSlug` and `dependencies`). */
  workflows?: ClaimScope;
}

/** The step-lifecycle layer of Backend: scheduling, atomic claims, heartbeats, completion, failure, retries, skips and reclamation. */
export abstract class BackendSteps<D extends BackendDriver = BackendDriver> extends BackendWorkflows<D> {
  // ─── Steps ─────────────────────────────────────────────────────────────────────────────────────
  /** Schedules attempt `attemptNumber` of a step; a duplicate or superseded schedule is ignored. Returns whether it was written. */
  async scheduleStep(
    workflowSlug: string,
    runId: string,
    stepId: string,
    metadata: {
      availableAt: number;
      reason: "initial" | "retry" | "dependency-satisfied";
      attemptNumber: number;
      retryDelayMs?: number;
      priority?: number;
    },
  ): Promise<boolean> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.makeEvent("StepScheduled", workflowSlug, runId, stepId, {
      availableAtUs: metadata.availableAt,
      reason: metadata.reason,
      attemptNumber: metadata.attemptNumber,
      ...(metadata.retryDelayMs === undefined ? {} : { retryDelayMs: metadata.retryDelayMs }),
      ...(metadata.priority === undefined ? {} : { priority: metadata.priority }),
    });
    const verdict = await this.store.writeEvents(
      { workflowSlug, runId, stepId },
      { kind: "schedule", attemptNumber: metadata.attemptNumber },
      [ev],
    );
    return verdict.ok;
  }

  /** Seed API: records that a step was scheduled (see scheduleStep). */
  async saveStepScheduled(
    workflowSlug: string,
    runId: string,
    stepId: string,
    metadata: {
      availableAt: number;
      reason: "initial" | "retry" | "dependency-satisfied";
      attemptNumber: number;
      retryDelayMs?: number;
    },
  ): Promise<void> {
    await this.scheduleStep(workflowSlug, runId, stepId, metadata);
  }

  /** Scheduled, available steps of live runs: priority desc, then availableAt asc; at most `limit`. */
  async listScheduledSteps(options: ListScheduledOptions = {}): Promise<StepRef[]> {
    if (options.workflowSlug !== undefined) assertWorkflowSlug(options.workflowSlug);
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0))
      throw new InvalidArgumentError(`limit must be a non-negative integer, got ${options.limit}.`);
    if (options.limit === 0) return [];
    return this.store.queryScheduledSteps({
      ...options,
      availableBefore: options.availableBefore ?? this.clock.nowUs(),
    });
  }

  /** Atomically moves a scheduled, available step of a live run to running; exactly one concurrent claimer wins, the rest get null. */
  async claimScheduledStep(
    workflowSlug: string,
    runId: string,
    stepId: string,
    workerId: string,
    metadata: StepStartMetadata,
  ): Promise<{ attemptNumber: number } | null> {
    assertIds({ workflowSlug, runId, stepId });
    const ref = { workflowSlug, runId, stepId };
    const request = this.claimRequest(workerId, {
      limit: 1,
      step: ref,
      dependencies: () => metadata.dependencies,
      slotIndex: metadata.slotIndex,
      workerConcurrency: metadata.workerConcurrency,
    });
    const fast = await this.store.claimSteps?.(request);
    if (fast) return fast[0] ? { attemptNumber: fast[0].attemptNumber } : null;
    const step = (await this.readSteps(workflowSlug, runId)).find((s) => s.stepId === stepId);
    if (!step || step.status !== "scheduled") return null;
    const attemptNumber = step.attemptNumber;
    // The guard re-checks status, availability, run liveness and (through the event) the attempt atomically.
    const verdict = await this.store.writeEvents(ref, { kind: "claim", nowUs: request.nowUs, attemptNumber }, [
      request.started(ref, attemptNumber),
    ]);
    return verdict.ok ? { attemptNumber } : null;
  }

  /**
   * Claims up to `limit` ready steps: in one round trip where the driver has the batch claim, else one step after
   * the other. `workflows` limits the claim to those workflows and gives each step's dependencies (recorded on
   * StepStarted), so one call serves a worker that runs several workflows.
   */
  async claimScheduledSteps(workerId: string, options: ClaimOptions): Promise<ClaimedStep[]> {
    return this.claimReady(workerId, options, false); // drivers attach contexts only when asked
  }

  /** claimScheduledSteps, asking the driver for the claimed steps' run contexts too when `contexts` (see ClaimRequest). */
  protected async claimReady(workerId: string, options: ClaimOptions, contexts: boolean): Promise<ClaimedStep[]> {
    if (!Number.isInteger(options.limit) || options.limit < 0)
      throw new InvalidArgumentError(`limit must be a non-negative integer, got ${options.limit}.`);
    if (options.workflowSlug !== undefined) assertWorkflowSlug(options.workflowSlug);
    const scope = options.workflows;
    for (const slug of Object.keys(scope ?? {})) assertWorkflowSlug(slug);
    if (options.limit === 0) return [];
    const given = options.dependencies;
    const dependencies = scope
      ? (r: StepRef) => [...(scope[r.workflowSlug]?.[r.stepId] ?? [])]
      : given
        ? (r: StepRef) => given(r)
        : undefined;
    const fast = await this.store.claimSteps?.(
      this.claimRequest(workerId, {
        limit: options.limit,
        ...(dependencies ? { dependencies } : {}),
        ...(scope ? { scope } : {}),
        ...(options.workflowSlug ? { workflowSlug: options.workflowSlug } : {}),
        ...(contexts ? { contexts } : {}),
      }),
    );
    if (fast) return fast;
    if (scope) return this.claimPerWorkflow(workerId, options.limit, scope);
    const out: ClaimedStep[] = [];
    const candidates = await this.listScheduledSteps({
      limit: options.limit * 2,
      ...(options.workflowSlug ? { workflowSlug: options.workflowSlug } : {}),
    });
    for (const ref of candidates) {
      if (out.length >= options.limit) break;
      const claimed = await this.claimScheduledStep(ref.workflowSlug, ref.runId, ref.stepId, workerId, {
        dependencies: dependencies?.(ref) ?? [],
        timestamp: this.clock.nowUs(),
        attemptNumber: 0,
      });
      if (claimed) out.push({ ...ref, attemptNumber: claimed.attemptNumber });
    }
    return out;
  }

  /** claimScheduledSteps over a scope, one workflow after the other. */
  private async claimPerWorkflow(workerId: string, limit: number, scope: ClaimScope): Promise<ClaimedStep[]> {
    const out: ClaimedStep[] = [];
    for (const slug of Object.keys(scope)) {
      if (out.length >= limit) break;
      const deps = scope[slug] ?? {};
      out.push(
        ...(await this.claimScheduledSteps(workerId, {
          limit: limit - out.length,
          workflowSlug: slug,
          dependencies: (r) => [...(deps[r.stepId] ?? [])],
        })),
      );
    }
    return out;
  }

  /** A claim request for the driver: now, and the StepStarted builder (the backend's ids, clock and validation). */
  private claimRequest(
    workerId: string,
    c: Omit<ClaimRequest, "workerId" | "nowUs" | "started" | "slotIndex" | "workerConcurrency"> & {
      slotIndex?: number | undefined;
      workerConcurrency?: number | undefined;
    },
  ): ClaimRequest {
    const { slotIndex, workerConcurrency, ...rest } = c;
    const extra = {
      ...(slotIndex === undefined ? {} : { slotIndex }),
      ...(workerConcurrency === undefined ? {} : { workerConcurrency }),
    };
    return {
      ...rest,
      ...extra,
      workerId,
      nowUs: this.clock.nowUs(),
      started: (ref, attemptNumber) =>
        this.makeEvent("StepStarted", ref.workflowSlug, ref.runId, ref.stepId, {
          workerId,
          dependencies: rest.dependencies?.(ref) ?? [],
          attemptNumber,
          ...extra,
        }),
    };
  }

  /** Seed API, routed through the claim guard: throws StepNotClaimableError unless the claim succeeds. */
  async saveStepStart(
    workflowSlug: string,
    runId: string,
    stepId: string,
    workerId: string,
    metadata: StepStartMetadata,
  ): Promise<void> {
    const claimed = await this.claimScheduledStep(workflowSlug, runId, stepId, workerId, metadata);
    if (!claimed) throw new StepNotClaimableError({ workflowSlug, runId, stepId });
  }

  /** True when the step is scheduled, available now and its run is live. */
  async isStepClaimable(workflowSlug: string, runId: string, stepId: string): Promise<boolean> {
    assertIds({ workflowSlug, runId, stepId });
    const [run, steps] = await Promise.all([this.store.readRun(runId), this.readSteps(workflowSlug, runId)]);
    const step = steps.find((s) => s.stepId === stepId) ?? null;
    return checkGuard(
      { kind: "claim", nowUs: this.clock.nowUs() },
      run && run.workflowSlug === workflowSlug ? run : null,
      step,
    ).ok;
  }

  /** Records a heartbeat for the running attempt; throws StaleAttemptError if the attempt lost the step, RunTerminalError if the run ended (cancel). */
  async saveStepHeartbeat(
    workflowSlug: string,
    runId: string,
    stepId: string,
    workerId: string,
    attemptNumber: number,
    extra: {
      slotIndex?: number;
      workerConcurrency?: number;
      resourceSnapshot?: { memoryBytes: number; cpuTimeUs?: number };
    } = {},
  ): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.makeEvent("StepHeartbeat", workflowSlug, runId, stepId, { workerId, attemptNumber, ...extra });
    await this.fenced(
      { workflowSlug, runId, stepId },
      { kind: "attempt", attemptNumber, workerId, rejectIfRunTerminal: true },
      [ev],
      attemptNumber,
    );
  }

  /** Records the output of the running attempt (fenced). Logs given in metadata are written in the same batch. */
  async saveStepComplete(
    workflowSlug: string,
    runId: string,
    stepId: string,
    output: unknown,
    metadata: StepCompleteMetadata,
    exportOutput = false,
  ): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const events = this.completionEvents({ workflowSlug, runId, stepId, output, metadata, exportOutput });
    await this.fenced(
      { workflowSlug, runId, stepId },
      { kind: "attempt", attemptNumber: metadata.attemptNumber },
      events,
      metadata.attemptNumber,
    );
  }

  /**
   * Many saveStepComplete calls in one: each item is fenced on its own attempt and succeeds or fails alone (a lost
   * attempt gets StaleAttemptError, bad ids or metadata their validation error, and the other items are still
   * written). Outcomes are in item order; two items for one step: the first wins, the second is stale. Throws only
   * when the storage fails (then any item may or may not have been written, as with saveStepComplete).
   * Drivers write the batch in one round trip (Postgres) or one transaction (SQLite) where they can.
   */
  async saveStepCompletes(items: StepCompleteItem[]): Promise<StepCompleteOutcome[]> {
    if (!Array.isArray(items)) throw new InvalidArgumentError("saveStepCompletes takes an array of completions.");
    this.assertOpen();
    const out: StepCompleteOutcome[] = new Array(items.length);
    const writes: Array<GuardedWrite & { index: number; attemptNumber: number }> = [];
    items.forEach((item, index) => {
      try {
        if (item === null || typeof item !== "object" || item.metadata === null || typeof item.metadata !== "object")
          throw new InvalidArgumentError(`Completion ${index} must be an object with metadata.`);
        const { workflowSlug, runId, stepId, metadata } = item;
        assertIds({ workflowSlug, runId, stepId });
        const events = this.completionEvents({ ...item, exportOutput: item.exportOutput ?? false });
        writes.push({
          target: { workflowSlug, runId, stepId },
          guard: { kind: "attempt", attemptNumber: metadata.attemptNumber },
          events,
          index,
          attemptNumber: metadata.attemptNumber,
        });
      } catch (err) {
        if (!(err instanceof CairnError)) throw err;
        out[index] = { ok: false, error: err };
      }
    });
    const verdicts = writes.length === 0 ? [] : await this.writeBatchAdvancing(writes);
    writes.forEach((w, k) => {
      const v = verdicts[k] as GuardVerdict;
      out[w.index] = v.ok
        ? { ok: true }
        : { ok: false, error: this.refusal(w.target as Required<WriteTarget>, v, w.attemptNumber) };
    });
    return out;
  }

  /** The events of one completion: its log lines, then StepCompleted. */
  protected completionEvents(c: StepCompleteItem & { exportOutput: boolean }): Event[] {
    const { workflowSlug, runId, stepId, metadata } = c;
    const events: Event[] = (metadata.logs ?? []).map((l) =>
      this.makeEvent("LogEntry", workflowSlug, runId, stepId, logEntryBody(l)),
    );
    events.push(
      this.makeEvent("StepCompleted", workflowSlug, runId, stepId, {
        output: serializeValue(c.output),
        durationUs: Math.max(0, Math.round(metadata.duration)),
        attemptNumber: metadata.attemptNumber,
        exportOutput: c.exportOutput,
        ...(metadata.resourceUsage ? { resourceUsage: metadata.resourceUsage } : {}),
      }),
    );
    return events;
  }

  /** Records a failure of the running attempt (fenced), with its error fingerprints. */
  async saveStepFailed(
    workflowSlug: string,
    runId: string,
    stepId: string,
    error: StepError,
    metadata: {
      duration: number;
      attemptNumber: number;
      terminal: boolean;
      nextRetryAt?: number;
      failureReason: EventOf<"StepFailed">["failureReason"];
      resourceUsage?: EventOf<"StepFailed">["resourceUsage"];
    },
  ): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.failureEvent(workflowSlug, runId, stepId, error, metadata);
    await this.fenced(
      { workflowSlug, runId, stepId },
      { kind: "attempt", attemptNumber: metadata.attemptNumber },
      [ev],
      metadata.attemptNumber,
    );
  }

  /** Atomically: StepFailed (non-terminal), StepRetrying and StepScheduled for the next attempt; all or nothing, fenced. */
  async saveStepFailedAndScheduleRetry(
    workflowSlug: string,
    runId: string,
    stepId: string,
    error: StepError,
    failureMetadata: {
      duration: number;
      attemptNumber: number;
      nextRetryAt: number;
      failureReason: "execution-error" | "timeout" | "worker-crash";
      resourceUsage?: EventOf<"StepFailed">["resourceUsage"];
    },
    scheduleMetadata: { availableAt: number; nextAttemptNumber: number; retryDelayMs: number; maxRetries: number },
  ): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    if (scheduleMetadata.nextAttemptNumber !== failureMetadata.attemptNumber + 1) {
      throw new InvalidEventError(
        "Invalid retry",
        [{ path: "nextAttemptNumber", message: `must be attemptNumber + 1 (${failureMetadata.attemptNumber + 1})` }],
        { runId, stepId },
      );
    }
    const step = (await this.readSteps(workflowSlug, runId)).find((s) => s.stepId === stepId);
    const events: Event[] = [
      this.failureEvent(workflowSlug, runId, stepId, error, { ...failureMetadata, terminal: false }),
      this.makeEvent("StepRetrying", workflowSlug, runId, stepId, {
        attemptNumber: failureMetadata.attemptNumber,
        nextAttempt: scheduleMetadata.nextAttemptNumber,
        error: cleanError(error),
        maxRetries: scheduleMetadata.maxRetries,
      }),
      this.makeEvent("StepScheduled", workflowSlug, runId, stepId, {
        availableAtUs: scheduleMetadata.availableAt,
        reason: "retry",
        attemptNumber: scheduleMetadata.nextAttemptNumber,
        retryDelayMs: scheduleMetadata.retryDelayMs,
        ...(step ? { priority: step.priority } : {}),
      }),
    ];
    await this.fenced(
      { workflowSlug, runId, stepId },
      { kind: "attempt", attemptNumber: failureMetadata.attemptNumber },
      events,
      failureMetadata.attemptNumber,
    );
  }

  /** Records that a step will not run. A running step may be skipped only by its current attempt. Returns whether it was written. */
  async saveStepSkipped(
    workflowSlug: string,
    runId: string,
    stepId: string,
    metadata: {
      skipType: "primary" | "cascade";
      reason: string;
      metadata?: Record<string, unknown>;
      duration: number;
      attemptNumber: number;
      cascadedFrom?: string;
    },
  ): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.makeEvent("StepSkipped", workflowSlug, runId, stepId, {
      skipType: metadata.skipType,
      reason: metadata.reason,
      durationUs: Math.max(0, Math.round(metadata.duration)),
      attemptNumber: metadata.attemptNumber,
      ...(metadata.metadata ? { metadata: metadata.metadata } : {}),
      ...(metadata.cascadedFrom ? { cascadedFrom: metadata.cascadedFrom } : {}),
    });
    const verdict = await this.writeAdvancing(
      { workflowSlug, runId, stepId },
      { kind: "step-open", attemptNumber: metadata.attemptNumber || undefined },
      [ev],
    );
    if (!verdict.ok && verdict.reason === "stale-attempt")
      throw new StaleAttemptError({
        workflowSlug,
        runId,
        stepId,
        attemptNumber: metadata.attemptNumber,
        currentAttempt: verdict.stepAttempt,
        currentStatus: verdict.stepStatus,
      });
  }

  /** Seed API: appends a StepReclaimed event as given (reclaimStaleSteps is the atomic way to reclaim). */
  async saveStepReclaimed(
    workflowSlug: string,
    runId: string,
    stepId: string,
    metadata: {
      originalWorkerId: string;
      reclaimedBy: string;
      lastHeartbeat: number;
      staleThreshold: number;
      staleDuration: number;
      attemptNumber: number;
    },
  ): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.makeEvent("StepReclaimed", workflowSlug, runId, stepId, {
      originalWorkerId: metadata.originalWorkerId,
      reclaimedBy: metadata.reclaimedBy,
      lastHeartbeatUs: metadata.lastHeartbeat,
      staleThresholdUs: metadata.staleThreshold,
      staleDurationUs: metadata.staleDuration,
      attemptNumber: metadata.attemptNumber,
    });
    await this.store.writeEvents({ workflowSlug, runId, stepId }, { kind: "none" }, [ev]);
  }

  /** Running steps whose heartbeat is older than `staleThresholdMs`: each reclaimed exactly once and rescheduled, or failed as worker-crash when its retry budget is spent. */
  async reclaimStaleSteps(staleThresholdMs: number, reclaimedBy: string): Promise<StepRef[]> {
    if (!Number.isFinite(staleThresholdMs) || staleThresholdMs < 0)
      throw new InvalidArgumentError(
        `staleThresholdMs must be a non-negative number of milliseconds, got ${staleThresholdMs}.`,
      );
    const nowUs = this.clock.nowUs();
    const cutoff = nowUs - Math.round(staleThresholdMs * 1000);
    const candidates = await this.store.queryStaleSteps(cutoff);
    const budgets = new Map<string, Map<string, number>>();
    const out: StepRef[] = [];
    for (const step of candidates) {
      const budget = await this.retryBudget(step.workflowSlug, step.stepId, budgets);
      const lastSeen = step.lastHeartbeatUs ?? step.startTimeUs ?? 0;
      const { workflowSlug, runId, stepId, attemptNumber } = step;
      const events: Event[] = [
        this.makeEvent("StepReclaimed", workflowSlug, runId, stepId, {
          originalWorkerId: step.claimedBy ?? "unknown",
          reclaimedBy,
          lastHeartbeatUs: lastSeen,
          staleThresholdUs: Math.round(staleThresholdMs * 1000),
          staleDurationUs: Math.max(0, nowUs - lastSeen),
          attemptNumber,
        }),
      ];
      // Attempts since the run last retried the step (a run retry gives it its retries again); wakes from waits are not retries.
      if (attemptNumber - (step.resetAtAttempt ?? 0) - (step.wakes ?? 0) <= budget) {
        events.push(
          this.makeEvent("StepScheduled", workflowSlug, runId, stepId, {
            availableAtUs: nowUs,
            reason: "retry",
            attemptNumber: attemptNumber + 1,
            priority: step.priority,
          }),
        );
      } else {
        const error = {
          name: "WorkerCrashError",
          message: `Worker ${step.claimedBy ?? "unknown"} stopped heartbeating attempt ${attemptNumber} and the retry budget (${budget}) is spent.`,
        };
        events.push(
          this.failureEvent(workflowSlug, runId, stepId, error, {
            duration: Math.max(0, nowUs - (step.startTimeUs ?? nowUs)),
            attemptNumber,
            terminal: true,
            failureReason: "worker-crash",
          }),
        );
      }
      const verdict = await this.writeAdvancing(
        { workflowSlug, runId, stepId },
        { kind: "stale", attemptNumber, heartbeatBeforeUs: cutoff },
        events,
      );
      if (verdict.ok) out.push({ workflowSlug, runId, stepId });
    }
    return out;
  }

  /** The number of retries a step may still use: registered maxRetries, else DEFAULT_MAX_RETRIES. */
  protected async retryBudget(slug: string, stepId: string, cache: Map<string, Map<string, number>>): Promise<number> {
    let perStep = cache.get(slug);
    if (!perStep) {
      perStep = new Map(
        (await this.getWorkflowSteps(slug)).map((d) => [
          d.id,
          d.maxRetries ?? d.retry?.maxRetries ?? DEFAULT_MAX_RETRIES,
        ]),
      );
      cache.set(slug, perStep);
    }
    return perStep.get(stepId) ?? DEFAULT_MAX_RETRIES;
  }

  /** A StepFailed event with its error cleaned and fingerprinted. */
  protected failureEvent(
    workflowSlug: string,
    runId: string,
    stepId: string,
    error: StepError,
    m: {
      duration: number;
      attemptNumber: number;
      terminal: boolean;
      nextRetryAt?: number;
      failureReason: EventOf<"StepFailed">["failureReason"];
      resourceUsage?: EventOf<"StepFailed">["resourceUsage"];
    },
  ): EventOf<"StepFailed"> {
    const err = cleanError(error);
    return this.makeEvent("StepFailed", workflowSlug, runId, stepId, {
      error: err,
      errorFingerprints: computeErrorFingerprints(err),
      durationUs: Math.max(0, Math.round(m.duration)),
      attemptNumber: m.attemptNumber,
      terminal: m.terminal,
      failureReason: m.failureReason,
      ...(m.nextRetryAt === undefined ? {} : { nextRetryAtUs: m.nextRetryAt }),
      ...(m.resourceUsage ? { resourceUsage: m.resourceUsage } : {}),
    });
  }
}
