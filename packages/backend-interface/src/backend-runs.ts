import type { BackendDriver } from "./backend-driver.js";
import { BackendWaits } from "./backend-waits.js";
import type { Event, EventOf } from "./events.js";
import { assertIds, assertRunId, assertWorkflowSlug } from "./identifiers.js";
import type { RunState } from "./run-state.js";
import type { RunStatus, StepError } from "./schemas.js";
import {
  CairnError,
  IdempotencyConflictError,
  InvalidArgumentError,
  RunNotFoundError,
  RunNotRetryableError,
} from "./errors.js";
import { reduceStepState } from "./project-step.js";
import type { FollowUp, ListRunsOptions, SubmissionResult } from "./backend-primitives.js";
import { prepareSubmission, type RunSubmissionInput } from "./submission.js";
import { deserializeValue, serializeValue } from "./serialize.js";
import { sameJsonText } from "./canonical-json.js";
import { planRerun, type RerunOptions } from "./rerun.js";
import { cleanError } from "./clean-error.js";
import { applyFlowToSubmission, FlowRejectedError, type FlowControl } from "./flow-control.js";
import { newestWins } from "./run-admission.js";
import { parseEvent } from "./validate-event.js";
import { assertTenantId } from "./tenants.js";

/** Items of submitRuns validated in one go while the previous chunk is written (see submitRuns). */
const SUBMIT_WINDOW = 1000;

/** One validated item of submitRuns: its position, its RunSubmitted event and its serialised input. */
interface Prepared {
  index: number;
  event: EventOf<"RunSubmitted">;
  input: string | undefined;
}

/** What makes two submissions the same run: the run id, and the idempotency key within the workflow. */
function submissionIdentities(event: EventOf<"RunSubmitted">): string[] {
  const id = `run\0${event.runId}`;
  return event.idempotencyKey === undefined ? [id] : [id, `key\0${event.workflowSlug}\0${event.idempotencyKey}`];
}

/** The outcome of one item of submitRuns: the run (new or existing), or the error submitRun would have thrown. */
export type SubmitOutcome = { ok: true; runId: string; isNew: boolean } | { ok: false; error: CairnError };

/** The FlowRejectedError a follow-up threw inside a driver's write (drivers may wrap it), or null. */
function flowRejection(err: unknown): FlowRejectedError | null {
  if (err instanceof FlowRejectedError) return err;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause instanceof FlowRejectedError ? cause : null;
}

/** What a submission's write result means for its caller: new, the same run again, or a conflicting reuse of its key. */
function submissionOutcome(
  event: EventOf<"RunSubmitted">,
  input: string | undefined,
  result: SubmissionResult,
): SubmitOutcome {
  if (result.created) return { ok: true, runId: result.runId, isNew: true };
  // Same value, not same text: {"a":1,"b":2} and {"b":2,"a":1} are one input.
  if (!sameJsonText(result.existingInput, input)) {
    return {
      ok: false,
      error: new IdempotencyConflictError({
        workflowSlug: event.workflowSlug,
        idempotencyKey: event.idempotencyKey ?? "",
        existingRunId: result.runId,
      }),
    };
  }
  return { ok: true, runId: result.runId, isNew: false };
}

/** The run layer of Backend: submission with idempotency keys, reruns, run queries, run start, completion, failure and cancellation. */
export abstract class BackendRuns<D extends BackendDriver = BackendDriver> extends BackendWaits<D> {
  // ─── Runs ──────────────────────────────────────────────────────────────────────────────────────
  /** Submits a run. Validates and serialises first (a failed submit leaves no trace); an idempotency key (scoped to the workflow) returns the existing run, or throws IdempotencyConflictError for a different input. */
  async submitRun(submission: RunSubmissionInput): Promise<{ runId: string; isNew: boolean }> {
    const prepared = await this.prepareChecked(submission, this.clock.nowUs());
    const { runId, isNew, workflowPaused } = await this.finishSubmission(prepared.event, [], prepared.input);
    if (isNew) await this.settleWorkflowPause([{ event: prepared.event, workflowPaused }]);
    return { runId, isNew };
  }

  /**
   * A submission validated and serialised into its RunSubmitted event, before any write: its fields and ids (before any
   * I/O), its workflow registered (WorkflowNotFoundError otherwise), its input matching the workflow's input schema
   * (InvalidInputError with every failing field otherwise).
   */
  protected async prepareChecked(
    submission: RunSubmissionInput,
    nowUs: number,
  ): Promise<{ event: EventOf<"RunSubmitted">; input: string | undefined }> {
    const { event, input } = prepareSubmission(submission, nowUs);
    const registered = await this.withFlow(
      await this.withRegisteredVersion(event, submission),
      submission.concurrencyKey,
      nowUs,
    );
    await this.checkSubmittedInput(registered);
    return { event: registered, input };
  }

  /** The submission under its version's flow control (gate key, debounce); a concurrencyKey for a workflow without flow control is an error. */
  private async withFlow(
    event: EventOf<"RunSubmitted">,
    concurrencyKey: string | undefined,
    nowUs: number,
  ): Promise<EventOf<"RunSubmitted">> {
    const dag = event.versionId ? await this.loadDag(event.workflowSlug, event.versionId) : null;
    if (!dag?.flow) {
      if (concurrencyKey !== undefined)
        throw new InvalidArgumentError(
          `concurrencyKey was given, but workflow ${event.workflowSlug} declares no flow control (concurrency, mode, rateLimit or debounce); leave it out. Nothing was written.`,
        );
      return event;
    }
    return parseEvent(applyFlowToSubmission(event, dag.flow, concurrencyKey, nowUs)) as EventOf<"RunSubmitted">;
  }

  /** Sends a run that singleton `signal` turned away to the running run, as the signal "input" (idempotent by the run's id). */
  private async deliverAsSignal(event: EventOf<"RunSubmitted">): Promise<void> {
    const run = await this.store.readRun(event.runId);
    if (run?.flow?.decision !== "signalled" || !run.flow.relatedRunId) return;
    await this.signal(
      run.flow.relatedRunId,
      "input",
      event.input === undefined ? null : deserializeValue(event.input),
      { id: event.runId },
    ).catch((err: unknown) => {
      if (!(err instanceof CairnError)) throw err; // the active run ended meanwhile: nothing waits for the input
    });
  }

  /** True when flow control may refuse this submission (exclusive `reject`, `capacity`). */
  private async mayRefuse(event: EventOf<"RunSubmitted">): Promise<boolean> {
    if (event.flowKey === undefined || !event.versionId) return false;
    const flow = (await this.loadDag(event.workflowSlug, event.versionId))?.flow;
    return flow !== undefined && (flow.mode === "capacity" || (flow.mode === "exclusive" && flow.onBusy === "reject"));
  }

  /**
   * After a submit created runs of gated workflows: under a newest-wins rule older waiting runs of the gate give way
   * at once, and under singleton `replace` the gate's running runs are cancelled so the new one starts.
   */
  protected async afterFlowSubmit(created: ReadonlyArray<EventOf<"RunSubmitted">>): Promise<void> {
    const gates = new Map<string, { event: EventOf<"RunSubmitted">; flow: FlowControl }>();
    for (const event of created) {
      if (event.flowKey === undefined || !event.versionId) continue;
      const flow = (await this.loadDag(event.workflowSlug, event.versionId))?.flow;
      if (flow && newestWins(flow)) gates.set(`${event.workflowSlug}\0${event.flowKey}`, { event, flow });
      if (flow?.mode === "singleton" && flow.onBusy === "signal") await this.deliverAsSignal(event);
    }
    for (const { event, flow } of gates.values()) {
      const { workflowSlug, flowKey } = event as { workflowSlug: string; flowKey: string };
      await this.startGate(workflowSlug, flowKey);
      if (flow.mode !== "singleton" || flow.onBusy !== "replace") continue;
      const newest = await this.store.readRun(event.runId);
      if (newest?.status !== "pending") continue;
      for (const active of await this.store.queryGateRuns({ workflowSlug, flowKey, status: "running", limit: 10 })) {
        const replaced = [
          this.makeEvent("FlowControlled", workflowSlug, active.runId, undefined, {
            decision: "replaced",
            reason: `run ${event.runId} replaces it (mode singleton, onBusy replace)`,
            relatedRunId: event.runId,
          }),
          this.makeEvent("WorkflowCancelled", workflowSlug, active.runId, undefined, {
            workflowAttemptNumber: 1,
            reason: `replaced by run ${event.runId}`,
            durationUs: 0,
            completedSteps: 0,
          }),
        ];
        await this.writeAdvancing({ workflowSlug, runId: active.runId }, { kind: "run-open" }, replaced, this.advance);
      }
    }
  }

  /**
   * Seed API: records a RunSubmitted event for a given run id (idempotency keys honoured as in submitRun). It records
   * what the caller already decided, as the seed's event-recording methods do: the fields and ids are validated, but
   * neither the registration nor the input schema is checked (submitRun and submitRuns check both).
   */
  async saveRunSubmitted(
    workflowSlug: string,
    runId: string,
    metadata: {
      availableAt: number;
      priority: number;
      input?: string;
      hasInputSchema: boolean;
      timeout?: number;
      idempotencyKey?: string;
      metadata?: Record<string, unknown>;
      tags?: string[];
      versionId?: string;
    },
  ): Promise<void> {
    assertIds({ workflowSlug, runId, versionId: metadata.versionId });
    const ev = this.makeEvent("RunSubmitted", workflowSlug, runId, undefined, {
      availableAtUs: metadata.availableAt,
      priority: metadata.priority,
      hasInputSchema: metadata.hasInputSchema,
      ...(metadata.input === undefined ? {} : { input: metadata.input }),
      ...(metadata.timeout === undefined ? {} : { timeoutUs: metadata.timeout }),
      ...(metadata.idempotencyKey === undefined ? {} : { idempotencyKey: metadata.idempotencyKey }),
      ...(metadata.metadata ? { metadata: metadata.metadata } : {}),
      ...(metadata.tags ? { tags: metadata.tags } : {}),
      ...(metadata.versionId ? { versionId: metadata.versionId } : {}),
    });
    await this.finishSubmission(ev, [], metadata.input);
  }

  /** Writes a prepared submission; `workflowPaused` as the write reported it (SubmissionResult). */
  protected async finishSubmission(
    event: EventOf<"RunSubmitted">,
    extra: Event[],
    input: string | undefined,
  ): Promise<{ runId: string; isNew: boolean; workflowPaused?: boolean }> {
    if (event.versionId) await this.loadDag(event.workflowSlug, event.versionId);
    let result: SubmissionResult;
    try {
      result = await this.submitAdvancing(event, extra);
    } catch (err) {
      throw flowRejection(err) ?? err;
    }
    const outcome = submissionOutcome(event, input, result);
    if (!outcome.ok) throw outcome.error;
    if (outcome.isNew && event.flowKey !== undefined) await this.afterFlowSubmit([event]);
    return {
      runId: outcome.runId,
      isNew: outcome.isNew,
      ...(result.created && result.workflowPaused !== undefined ? { workflowPaused: result.workflowPaused } : {}),
    };
  }

  /**
   * Submits many runs in one write where the driver can (graphile-worker's addJobs): each item is validated and
   * idempotent on its own, exactly as submitRun (an existing key returns the existing run; a key reused with another
   * input is that item's IdempotencyConflictError; a bad item its validation error, an unregistered workflow its
   * WorkflowNotFoundError, an input its schema rejects its InvalidInputError), and the others are written.
   * Outcomes are in item order. Store-driven runs that are available start in the same write.
   */
  async submitRuns(items: RunSubmissionInput[]): Promise<SubmitOutcome[]> {
    if (!Array.isArray(items)) throw new InvalidArgumentError("submitRuns takes an array of submissions.");
    this.assertOpen();
    const out: SubmitOutcome[] = new Array(items.length);
    const nowUs = this.clock.nowUs();
    const refused: Prepared[] = [];
    const created: Array<{ event: EventOf<"RunSubmitted">; workflowPaused?: boolean | undefined }> = [];
    // Chunks of SUBMIT_WINDOW items: the next chunk is validated while the previous one's write is in flight (the
    // database works while this process prepares). A chunk that is gated, or shares a run id or idempotency key with
    // the chunk in flight, waits for it, so a later item still sees the earlier ones and a gate sees items in order.
    let inFlight: { write: Promise<void>; identities: Set<string>; gated: boolean } | null = null;
    for (let from = 0; from < items.length; from += SUBMIT_WINDOW) {
      const prepared = await this.prepareItems(items, from, Math.min(items.length, from + SUBMIT_WINDOW), nowUs, out);
      const refusable = await Promise.all(prepared.map((p) => this.mayRefuse(p.event)));
      refused.push(...prepared.filter((_, k) => refusable[k]));
      const batch = prepared.filter((_, k) => !refusable[k]);
      const identities = new Set(batch.flatMap((p) => submissionIdentities(p.event)));
      const gated = batch.some((p) => p.event.flowKey !== undefined);
      if (inFlight && (gated || inFlight.gated || [...identities].some((id) => inFlight!.identities.has(id)))) {
        await inFlight.write;
        inFlight = null;
      }
      const events = batch.map((p) => p.event);
      const write =
        batch.length === 0
          ? Promise.resolve()
          : this.withEngine(() => this.writeSubmissions(events, this.advanceSubmitted)).then((results) => {
              batch.forEach((p, k) => (out[p.index] = submissionOutcome(p.event, p.input, results[k]!)));
              for (const [k, p] of batch.entries()) {
                const r = results[k];
                if (r?.created) created.push({ event: p.event, workflowPaused: r.workflowPaused });
              }
            });
      // Observed at once: if an earlier write fails first, the caller gets that error and this one is not unhandled.
      write.catch(() => {});
      if (inFlight) await inFlight.write;
      inFlight = { write, identities, gated };
    }
    if (inFlight) await inFlight.write;
    // Items flow control may refuse are written one by one, so a refusal is that item's error.
    for (const p of refused) {
      try {
        const result = await this.submitAdvancing(p.event, []);
        out[p.index] = submissionOutcome(p.event, p.input, result);
        if (result.created) created.push({ event: p.event, workflowPaused: result.workflowPaused });
      } catch (err) {
        const refusal = flowRejection(err);
        if (!refusal) throw err;
        out[p.index] = { ok: false, error: refusal };
      }
    }
    await this.afterFlowSubmit(created.map((c) => c.event));
    await this.settleWorkflowPause(created);
    return out;
  }

  /** Items [from, to) validated into their events (an invalid item's error goes into `out`); prepareChecked loads their DAGs. */
  private async prepareItems(
    items: RunSubmissionInput[],
    from: number,
    to: number,
    nowUs: number,
    out: SubmitOutcome[],
  ): Promise<Prepared[]> {
    const prepared: Prepared[] = [];
    for (let index = from; index < to; index++) {
      try {
        const { event, input } = await this.prepareChecked(items[index]!, nowUs);
        prepared.push({ index, event, input });
      } catch (err) {
        if (!(err instanceof CairnError)) throw err;
        out[index] = { ok: false, error: err };
      }
    }
    return prepared;
  }

  /**
   * Many submissions (as writeSubmission, each honouring its idempotency key and run id; a later item sees the
   * earlier ones), results in item order: the driver's batch fast path (one transaction or statement), else
   * writeSubmission one after the other.
   */
  protected async writeSubmissions(
    events: Array<EventOf<"RunSubmitted">>,
    follow: FollowUp,
  ): Promise<SubmissionResult[]> {
    const store = this.store;
    if (store.writeSubmissions) return store.writeSubmissions(events, follow);
    const out: SubmissionResult[] = [];
    for (const e of events) out.push(await store.writeSubmission(e, [], follow));
    return out;
  }

  /** A new run that keeps the parent's results outside `{fromStepId} ∪ its transitive dependents` and re-executes the rest. */
  async rerunFrom(options: RerunOptions): Promise<{ runId: string; rerunStepIds: string[] }> {
    assertRunId(options.parentRunId, "parentRunId");
    const parent = await this.store.readRun(options.parentRunId);
    if (!parent) throw new RunNotFoundError(options.parentRunId);
    const [steps, definitions] = await Promise.all([
      this.readSteps(parent.workflowSlug, parent.runId),
      this.getWorkflowSteps(parent.workflowSlug),
    ]);
    const plan = planRerun(parent, steps, definitions, options, this.clock.nowUs(), (type, runId, stepId, body) =>
      this.makeEvent(type, parent.workflowSlug, runId, stepId, body as never),
    );
    if (plan.submitted.versionId) await this.loadDag(parent.workflowSlug, plan.submitted.versionId);
    const written = await this.submitAdvancing(plan.submitted, plan.extra);
    if (written.created)
      await this.settleWorkflowPause([{ event: plan.submitted, workflowPaused: written.workflowPaused }]);
    return { runId: plan.submitted.runId, rerunStepIds: plan.rerunStepIds };
  }

  /** True when the run exists in this workflow. */
  async runExists(workflowSlug: string, runId: string): Promise<boolean> {
    assertIds({ workflowSlug, runId });
    const run = await this.store.readRun(runId);
    return run !== null && run.workflowSlug === workflowSlug;
  }

  /** The run's state, or null. */
  async getRun(runId: string): Promise<RunState | null> {
    assertRunId(runId);
    return this.store.readRun(runId);
  }

  /** Runs, newest first; status filters are OR, tag filters AND; at most `limit`. */
  async listRuns(options: ListRunsOptions = {}): Promise<RunState[]> {
    if (options.workflowSlug !== undefined) assertWorkflowSlug(options.workflowSlug);
    if (options.tenantId !== undefined) assertTenantId(options.tenantId);
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0))
      throw new InvalidArgumentError(`limit must be a non-negative integer, got ${options.limit}.`);
    if (options.limit === 0) return [];
    const allowed: RunStatus[] = ["pending", "running", "completed", "failed", "cancelled"];
    for (const s of options.status ?? [])
      if (!allowed.includes(s))
        throw new InvalidArgumentError(`Unknown run status ${JSON.stringify(s)}; use one of ${allowed.join(", ")}.`);
    const b = options.before;
    if (b !== undefined) {
      if (b === null || typeof b !== "object" || !Number.isInteger(b.createdAtUs) || b.createdAtUs < 0) {
        throw new InvalidArgumentError("before must be { createdAtUs, runId } of the last run of the previous page.");
      }
      assertRunId(b.runId, "before.runId");
    }
    if (
      options.createdAfterUs !== undefined &&
      (!Number.isFinite(options.createdAfterUs) || options.createdAfterUs < 0)
    ) {
      throw new InvalidArgumentError(
        `createdAfterUs must be a non-negative number of µs, got ${String(options.createdAfterUs)}.`,
      );
    }
    return this.store.queryRuns(options);
  }

  /** Every run id of a workflow. */
  async listRunIds(workflowSlug: string): Promise<string[]> {
    assertWorkflowSlug(workflowSlug);
    return this.store.queryRunIds(workflowSlug);
  }

  /** Workflows with at least one non-terminal run. */
  async listActiveWorkflows(): Promise<string[]> {
    return this.store.queryActiveWorkflows();
  }

  /** Starts a pending, available run exactly once; returns false if another worker started it or it is not startable. */
  async startRun(
    workflowSlug: string,
    runId: string,
    metadata: { workflowAttemptNumber: number; hasInputSchema: boolean; hasInput: boolean; versionId?: string },
  ): Promise<boolean> {
    assertIds({ workflowSlug, runId });
    const ev = this.makeEvent("WorkflowStarted", workflowSlug, runId, undefined, metadata);
    return (await this.writeAdvancing({ workflowSlug, runId }, { kind: "run-start", nowUs: this.clock.nowUs() }, [ev]))
      .ok;
  }

  /** Seed API: records that a run started (only a pending, available run starts; see startRun). */
  async saveWorkflowStart(
    workflowSlug: string,
    runId: string,
    metadata: { workflowAttemptNumber: number; hasInputSchema: boolean; hasInput: boolean; versionId?: string },
  ): Promise<void> {
    await this.startRun(workflowSlug, runId, metadata);
  }

  /** Records the input validation result. */
  async saveWorkflowInputValidation(
    workflowSlug: string,
    runId: string,
    result: {
      workflowAttemptNumber: number;
      hasSchema: boolean;
      success: boolean;
      error?: StepError;
      validationErrors?: Array<{ path: string; message: string }>;
    },
  ): Promise<void> {
    assertIds({ workflowSlug, runId });
    const ev = this.makeEvent("WorkflowInputValidation", workflowSlug, runId, undefined, {
      ...result,
      ...(result.error ? { error: cleanError(result.error) } : {}),
    });
    await this.store.writeEvents({ workflowSlug, runId }, { kind: "none" }, [ev]);
  }

  /** Seed API: completes a live run with its output; a run that already ended is left as it is (see completeRunIfOpen). */
  async saveWorkflowComplete(
    workflowSlug: string,
    runId: string,
    output: unknown,
    metadata: { workflowAttemptNumber: number; timestamp: number; duration: number; totalSteps: number },
  ): Promise<void> {
    await this.completeRunIfOpen(workflowSlug, runId, output, metadata);
  }

  /**
   * Completes a live run with its output (WorkflowCompleted, guarded on the run being open) and says whether it did:
   * true when this call wrote it, false when the run had already ended (completed, failed or cancelled) and was left as it is.
   */
  async completeRunIfOpen(
    workflowSlug: string,
    runId: string,
    output: unknown,
    metadata: { workflowAttemptNumber: number; timestamp: number; duration: number; totalSteps: number },
  ): Promise<boolean> {
    assertIds({ workflowSlug, runId });
    const ev = this.makeEvent("WorkflowCompleted", workflowSlug, runId, undefined, {
      workflowAttemptNumber: metadata.workflowAttemptNumber,
      output: serializeValue(output),
      durationUs: Math.max(0, Math.round(metadata.duration)),
      totalSteps: metadata.totalSteps,
    });
    return (await this.writeAdvancing({ workflowSlug, runId }, { kind: "run-open" }, [ev], this.advance)).ok;
  }

  /** Seed API: fails a live run; a run that already ended is left as it is (see failRunIfOpen). */
  async saveWorkflowFailed(
    workflowSlug: string,
    runId: string,
    error: StepError,
    metadata: { workflowAttemptNumber: number; duration: number; completedSteps: number; failedStep?: string },
    failureReason: "step-failed" | "worker-crash" | "timeout" | "cancelled",
  ): Promise<void> {
    await this.failRunIfOpen(workflowSlug, runId, error, metadata, failureReason);
  }

  /**
   * Fails a live run (WorkflowFailed, guarded on the run being open) and says whether it did: true when this call wrote
   * it, false when the run had already ended and was left as it is.
   */
  async failRunIfOpen(
    workflowSlug: string,
    runId: string,
    error: StepError,
    metadata: { workflowAttemptNumber: number; duration: number; completedSteps: number; failedStep?: string },
    failureReason: "step-failed" | "worker-crash" | "timeout" | "cancelled",
  ): Promise<boolean> {
    assertIds({ workflowSlug, runId });
    const ev = this.makeEvent("WorkflowFailed", workflowSlug, runId, undefined, {
      workflowAttemptNumber: metadata.workflowAttemptNumber,
      error: cleanError(error),
      durationUs: Math.max(0, Math.round(metadata.duration)),
      completedSteps: metadata.completedSteps,
      failureReason,
      ...(metadata.failedStep ? { failedStep: metadata.failedStep } : {}),
    });
    return (await this.writeAdvancing({ workflowSlug, runId }, { kind: "run-open" }, [ev], this.advance)).ok;
  }

  /** Records that a run resumes the work of an earlier run. */
  async saveWorkflowResumed(
    workflowSlug: string,
    runId: string,
    metadata: { originalRunId: string; resumedSteps: number; pendingSteps: number },
  ): Promise<void> {
    assertIds({ workflowSlug, runId });
    assertRunId(metadata.originalRunId, "originalRunId");
    await this.store.writeEvents({ workflowSlug, runId }, { kind: "none" }, [
      this.makeEvent("WorkflowResumed", workflowSlug, runId, undefined, metadata),
    ]);
  }

  /** Seed API: cancels a live run; a run that already ended is left as it is (see cancelRunIfOpen). */
  async saveWorkflowCancelled(
    workflowSlug: string,
    runId: string,
    metadata: { workflowAttemptNumber: number; reason?: string; duration: number; completedSteps: number },
  ): Promise<void> {
    await this.cancelRunIfOpen(workflowSlug, runId, metadata);
  }

  /**
   * Cancels a live run (WorkflowCancelled, guarded on the run being open) and says whether it did: true when this call
   * wrote it, false when the run had already ended and was left as it is. cancelRun is the by-id form that fills in the metadata.
   */
  async cancelRunIfOpen(
    workflowSlug: string,
    runId: string,
    metadata: { workflowAttemptNumber: number; reason?: string; duration: number; completedSteps: number },
  ): Promise<boolean> {
    assertIds({ workflowSlug, runId });
    const ev = this.makeEvent("WorkflowCancelled", workflowSlug, runId, undefined, {
      workflowAttemptNumber: metadata.workflowAttemptNumber,
      durationUs: Math.max(0, Math.round(metadata.duration)),
      completedSteps: metadata.completedSteps,
      ...(metadata.reason === undefined ? {} : { reason: metadata.reason }),
    });
    return (await this.writeAdvancing({ workflowSlug, runId }, { kind: "run-open" }, [ev], this.advance)).ok;
  }

  /**
   * Starts a new workflow attempt of a failed run: in one write, WorkflowRetryStarted (the run is pending again) and,
   * for each of `retriedSteps` that failed or was skipped, StepReset (pending again, its attempt number kept); then
   * the store starts the run and schedules what is ready, so the retried steps run again and completed results are
   * kept. A run that is not failed is left as it is.
   */
  async saveWorkflowRetryStarted(
    workflowSlug: string,
    runId: string,
    metadata: { workflowAttemptNumber: number; previousAttemptNumber: number; retriedSteps: string[]; reason?: string },
  ): Promise<void> {
    assertIds({ workflowSlug, runId });
    for (const stepId of metadata.retriedSteps) assertIds({ stepId });
    const retry = this.makeEvent("WorkflowRetryStarted", workflowSlug, runId, undefined, metadata);
    const retried = new Set(metadata.retriedSteps);
    const follow: FollowUp = this.wrapFollow(this.advance, (run, steps, gate) => {
      if (run?.status !== "pending" || run.workflowAttemptNumber !== metadata.workflowAttemptNumber) return [];
      const resets = [...steps.values()]
        .filter((st) => retried.has(st.stepId) && (st.status === "failed" || st.status === "skipped"))
        .map((st) =>
          this.makeEvent("StepReset", workflowSlug, runId, st.stepId, {
            attemptNumber: st.attemptNumber,
            workflowAttemptNumber: metadata.workflowAttemptNumber,
            reason: `run retry (attempt ${metadata.workflowAttemptNumber})`,
          }),
        );
      const after = new Map(steps);
      for (const ev of resets) after.set(ev.stepId, reduceStepState(after.get(ev.stepId) ?? null, ev));
      return [...resets, ...this.advance(run, after, gate)];
    });
    await this.writeAdvancing({ workflowSlug, runId }, { kind: "none" }, [retry], follow);
  }

  /**
   * Retries a failed run: its failed and skipped steps run again, its completed results are kept (see
   * saveWorkflowRetryStarted). RunNotFoundError for an unknown run; RunNotRetryableError unless it failed.
   */
  async retryRun(
    runId: string,
    options: { reason?: string } = {},
  ): Promise<{ workflowAttemptNumber: number; retriedSteps: string[] }> {
    assertRunId(runId);
    const run = await this.store.readRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    if (run.status !== "failed") throw new RunNotRetryableError({ runId, status: run.status });
    const retriedSteps = (await this.readSteps(run.workflowSlug, runId))
      .filter((s) => s.status === "failed" || s.status === "skipped")
      .map((s) => s.stepId);
    const workflowAttemptNumber = Math.max(1, run.workflowAttemptNumber) + 1;
    await this.saveWorkflowRetryStarted(run.workflowSlug, runId, {
      workflowAttemptNumber,
      previousAttemptNumber: Math.max(1, run.workflowAttemptNumber),
      retriedSteps,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
    });
    return { workflowAttemptNumber, retriedSteps };
  }

  /** Cancels a run: RunNotFoundError if unknown, no change if it already ended; afterwards none of its steps is listed or claimable. */
  async cancelRun(runId: string, reason?: string): Promise<void> {
    assertRunId(runId);
    const run = await this.store.readRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    if (run.status === "completed" || run.status === "failed" || run.status === "cancelled") return;
    const steps = await this.readSteps(run.workflowSlug, runId);
    const nowUs = this.clock.nowUs();
    const ev = this.makeEvent("WorkflowCancelled", run.workflowSlug, runId, undefined, {
      workflowAttemptNumber: run.workflowAttemptNumber,
      durationUs: Math.max(0, nowUs - (run.startedAtUs ?? run.createdAtUs)),
      completedSteps: steps.filter((s) => s.status === "completed").length,
      ...(reason === undefined ? {} : { reason }),
    });
    await this.writeAdvancing({ workflowSlug: run.workflowSlug, runId }, { kind: "run-open" }, [ev], this.advance);
  }
}
