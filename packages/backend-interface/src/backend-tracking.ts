import { BackendFeed } from "./backend-feed.js";
import type { BackendDriver } from "./backend-driver.js";
import { resolveAnalyticsQuery } from "./backend-analytics.js";
import { callRecordOf, validateCallInput, withoutNul, type CallInput, type CallRecord } from "./calls.js";
import {
  computeCallAnalytics,
  computeRunUsage,
  computeUsageAnalytics,
  costMicroUsd,
  type CallAnalytics,
  type RunUsage,
  type UsageAnalytics,
} from "./analytics/calls.js";
import type { AnalyticsOptions } from "./analytics/window.js";
import { ANALYTICS_EVENT_TYPES } from "./analytics/event-types.js";
import { cleanError } from "./clean-error.js";
import type { EventOf } from "./events.js";
import { computeErrorFingerprints } from "./fingerprint.js";
import { assertIds } from "./identifiers.js";
import { newEventId } from "./ids.js";
import { InvalidArgumentError, RunNotFoundError, RunTerminalError, StepNotClaimableError } from "./errors.js";
import { prepareSubmission } from "./submission.js";
import { parseEvent } from "./validate-event.js";
import type { TrackedRunStart } from "./tracked-runs.js";
import { validateIncrement } from "./counters.js";
import { computeCounterAnalytics, type CounterAnalytics } from "./analytics/counters.js";
import type { RunState } from "./run-state.js";
import {
  childStepOf,
  validateChildPath,
  validateChildStepInput,
  type ChildStepInput,
  type ChildStepRecord,
} from "./child-steps.js";
import {
  sortLinkEvents,
  stepLinkOf,
  validateEntityQuery,
  validateLinkSpec,
  type EntityQuery,
  type LinkInput,
  type StepLink,
} from "./links.js";

/**
 * The tracking layer of Backend: what a step records below and beside itself. Calls (`saveStepCalls`) are `StepCall`
 * events of the attempt that made them, with no effect on the step's status; like log lines they are stored
 * unfenced, so the calls of an attempt that lost its lease are kept under that attempt's number.
 */
export abstract class BackendTracking<D extends BackendDriver = BackendDriver> extends BackendFeed<D> {
  /**
   * Records calls a step made (each with its attempt), in one write; a failed call's error is fingerprinted. Every
   * call is checked first (InvalidArgumentError): a bad one writes none of them. Returns the records written.
   */
  async saveStepCalls(
    workflowSlug: string,
    runId: string,
    stepId: string,
    calls: readonly CallInput[],
  ): Promise<CallRecord[]> {
    assertIds({ workflowSlug, runId, stepId });
    const valid = calls.map((c) => validateCallInput(c));
    if (valid.length === 0) return [];
    const events = valid.map((c) => {
      const cleaned = c.error ? cleanError(c.error) : undefined;
      const error = cleaned && {
        message: withoutNul(cleaned.message),
        ...(cleaned.name !== undefined ? { name: withoutNul(cleaned.name) } : {}),
        ...(cleaned.stack !== undefined ? { stack: withoutNul(cleaned.stack) } : {}),
      };
      const usage = c.usage
        ? { ...c.usage, ...(c.usage.costUsd !== undefined ? { costMicroUsd: costMicroUsd(c.usage.costUsd) } : {}) }
        : undefined;
      const body: Omit<
        EventOf<"StepCall">,
        "eventId" | "timestampUs" | "workflowSlug" | "runId" | "category" | "stepId" | "type"
      > = {
        attemptNumber: c.attemptNumber,
        callId: newEventId(c.startedAtUs),
        tool: c.tool,
        operation: c.operation,
        startedAtUs: c.startedAtUs,
        durationUs: c.durationUs,
        outcome: c.outcome,
        ...(c.outputSummary !== undefined ? { outputSummary: c.outputSummary } : {}),
        ...(c.outputBytes !== undefined ? { outputBytes: c.outputBytes } : {}),
        ...(error ? { error, errorFingerprints: computeErrorFingerprints(error) } : {}),
        ...(usage ? { usage } : {}),
        ...(c.childId !== undefined ? { childId: c.childId } : {}),
      };
      return this.makeEvent("StepCall", workflowSlug, runId, stepId, body);
    });
    await this.store.writeEvents({ workflowSlug, runId, stepId }, { kind: "none" }, events);
    return events.map(callRecordOf);
  }

  /** The calls of a run's step (or of every step), in the order they were recorded. */
  async loadStepCalls(workflowSlug: string, runId: string, stepId?: string): Promise<CallRecord[]> {
    const events = await this.loadEvents(workflowSlug, runId, {
      category: "step",
      ...(stepId !== undefined ? { stepId } : {}),
    });
    return events.filter((e): e is EventOf<"StepCall"> => e.type === "StepCall").map(callRecordOf);
  }

  /**
   * Records a child step (`ctx.step`) of a step attempt that ended: its path, status, start, duration and its result
   * (`ok`, replayed by later attempts) or its error (fingerprinted). Fenced like a checkpoint: only the step's running
   * attempt records (StaleAttemptError otherwise). A bad record (InvalidArgumentError) writes nothing.
   */
  async saveStepChild(
    workflowSlug: string,
    runId: string,
    stepId: string,
    child: ChildStepInput,
  ): Promise<ChildStepRecord> {
    assertIds({ workflowSlug, runId, stepId });
    const c = validateChildStepInput(child);
    const cleaned = c.error ? cleanError(c.error) : undefined;
    const error = cleaned && {
      message: withoutNul(cleaned.message),
      ...(cleaned.name !== undefined ? { name: withoutNul(cleaned.name) } : {}),
      ...(cleaned.stack !== undefined ? { stack: withoutNul(cleaned.stack) } : {}),
    };
    const { error: _raw, ...rest } = c;
    const ev = this.makeEvent("StepChild", workflowSlug, runId, stepId, {
      ...rest,
      ...(error ? { error, errorFingerprints: computeErrorFingerprints(error) } : {}),
    });
    await this.fenced(
      { workflowSlug, runId, stepId },
      { kind: "attempt", attemptNumber: c.attemptNumber },
      [ev],
      c.attemptNumber,
    );
    return childStepOf(ev);
  }

  /** The child steps of a run's step (or of every step), every attempt's, in the order they ended. */
  async loadStepChildren(workflowSlug: string, runId: string, stepId?: string): Promise<ChildStepRecord[]> {
    const events = await this.loadEvents(workflowSlug, runId, {
      category: "step",
      ...(stepId !== undefined ? { stepId } : {}),
    });
    return events.filter((e): e is EventOf<"StepChild"> => e.type === "StepChild").map(childStepOf);
  }

  /** Calls per tool and operation over a window: count, error rate, p50/p95 duration. */
  async getCallAnalytics(options?: AnalyticsOptions): Promise<CallAnalytics> {
    const q = resolveAnalyticsQuery(options, this.clock.nowUs());
    const fast = this.store.analytics;
    if (fast?.callAnalytics) return fast.callAnalytics(q);
    return computeCallAnalytics(await this.eventsFor(q, ANALYTICS_EVENT_TYPES.callAnalytics), q, q.nowUs);
  }

  /** AI usage (calls, tokens, cost) per workflow and model over a window, and the totals. */
  async getUsageAnalytics(options?: AnalyticsOptions): Promise<UsageAnalytics> {
    const q = resolveAnalyticsQuery(options, this.clock.nowUs());
    const fast = this.store.analytics;
    if (fast?.usageAnalytics) return fast.usageAnalytics(q);
    return computeUsageAnalytics(await this.eventsFor(q, ANALYTICS_EVENT_TYPES.usageAnalytics), q, q.nowUs);
  }

  /**
   * Adds to the run's counters on behalf of a step attempt (`ctx.increment`), in one write: the run must exist and not
   * have ended (RUN_NOT_FOUND, RUN_TERMINAL). A later attempt of the step replaces what earlier attempts counted (see
   * reduceRunState). Bad counters (InvalidArgumentError) write nothing. Returns the run's counters after the write.
   * `childId`: the child step (`ctx.step`) that counted; its counts are kept apart from the step's own, so a retry that
   * replays a finished child keeps what the child counted.
   */
  async incrementRunCounters(
    workflowSlug: string,
    runId: string,
    stepId: string,
    attemptNumber: number,
    counters: Record<string, number>,
    childId?: string,
  ): Promise<Record<string, number>> {
    return this.incrementRunCounterParts(workflowSlug, runId, stepId, attemptNumber, [
      { counters, ...(childId !== undefined ? { childId } : {}) },
    ]);
  }

  /**
   * incrementRunCounters for several parts of one step attempt at once (the step's own counts and its children's), in
   * one write: every part is checked first, so a bad one writes none. Returns the run's counters after the write.
   */
  async incrementRunCounterParts(
    workflowSlug: string,
    runId: string,
    stepId: string,
    attemptNumber: number,
    parts: ReadonlyArray<{ counters: Record<string, number>; childId?: string }>,
  ): Promise<Record<string, number>> {
    assertIds({ workflowSlug, runId, stepId });
    if (!Number.isSafeInteger(attemptNumber) || attemptNumber < 1)
      throw new InvalidArgumentError(`attemptNumber must be a positive integer, got ${String(attemptNumber)}.`, {
        field: "attemptNumber",
      });
    if (!Array.isArray(parts) || parts.length === 0)
      throw new InvalidArgumentError("incrementRunCounterParts needs at least one { counters, childId? }.", {
        field: "parts",
      });
    const events = parts.map(({ counters, childId }) => {
      const values = validateIncrement(counters);
      if (childId !== undefined) validateChildPath(childId);
      return this.makeEvent("RunCountersIncremented", workflowSlug, runId, undefined, {
        byStepId: stepId,
        ...(childId !== undefined ? { byChildId: childId } : {}),
        attemptNumber,
        counters: values,
      });
    });
    let after: RunState | null = null;
    const verdict = await this.store.writeEvents({ workflowSlug, runId }, { kind: "run-open" }, events, (run) => {
      after = run;
      return [];
    });
    if (!verdict.ok) {
      if (verdict.reason === "run-terminal")
        throw new RunTerminalError({ workflowSlug, runId, stepId, status: verdict.runStatus ?? "ended" });
      throw new RunNotFoundError(runId, workflowSlug);
    }
    return { ...(after as RunState | null)?.counters };
  }

  /** Counters per workflow, summed over the runs created in the window (`stepId` does not apply). */
  async getCounterAnalytics(options?: AnalyticsOptions): Promise<CounterAnalytics> {
    const q = resolveAnalyticsQuery(options, this.clock.nowUs());
    const fast = this.store.analytics;
    if (fast?.counterAnalytics) return fast.counterAnalytics(q);
    const runs: RunState[] = [];
    let before = { createdAtUs: q.endUs, runId: "\uffff" };
    for (;;) {
      const page = await this.store.queryRuns({
        ...(q.workflowSlug ? { workflowSlug: q.workflowSlug } : {}),
        createdAfterUs: q.startUs,
        before,
        limit: 500,
      });
      runs.push(...page);
      const last = page[page.length - 1];
      if (!last || page.length < 500) break;
      before = { createdAtUs: last.createdAtUs, runId: last.runId };
    }
    return computeCounterAnalytics(runs, q);
  }

  /**
   * Records entities a step touched (`ctx.link`), each with its attempt, in one write; every link is checked first
   * (InvalidArgumentError), so a bad one writes none. Unfenced, like calls. Returns the links written.
   */
  async saveStepLinks(
    workflowSlug: string,
    runId: string,
    stepId: string,
    links: readonly LinkInput[],
  ): Promise<StepLink[]> {
    assertIds({ workflowSlug, runId, stepId });
    const valid = links.map((l) => {
      if (!Number.isSafeInteger(l?.attemptNumber) || l.attemptNumber < 1)
        throw new InvalidArgumentError(
          `A link's attemptNumber must be a positive integer, got ${String(l?.attemptNumber)}.`,
          { field: "attemptNumber" },
        );
      if (l.childId !== undefined) validateChildPath(l.childId);
      return {
        ...validateLinkSpec(l),
        attemptNumber: l.attemptNumber,
        ...(l.childId !== undefined ? { childId: l.childId } : {}),
      };
    });
    if (valid.length === 0) return [];
    const events = valid.map((l) => this.makeEvent("StepLinked", workflowSlug, runId, stepId, l));
    await this.store.writeEvents({ workflowSlug, runId, stepId }, { kind: "none" }, events);
    return events.map(stepLinkOf);
  }

  /** The entities a step touched, in the order they were linked. */
  async getStepLinks(workflowSlug: string, runId: string, stepId: string): Promise<StepLink[]> {
    const events = await this.loadEvents(workflowSlug, runId, { category: "step", stepId });
    return events.filter((e): e is EventOf<"StepLinked"> => e.type === "StepLinked").map(stepLinkOf);
  }

  /**
   * The reverse query: which runs and steps touched an entity (`transaction:tx_123`), newest link first, at most
   * `limit` (default 100). Indexed on SQLite and Postgres; the filesystem and memory drivers read every run.
   */
  async findEntityLinks(query: EntityQuery): Promise<StepLink[]> {
    const q = validateEntityQuery(query);
    if (this.store.queryEntityLinks) return (await this.store.queryEntityLinks(q)).map(stepLinkOf);
    const found: Array<EventOf<"StepLinked">> = [];
    let before: { createdAtUs: number; runId: string } | undefined;
    for (;;) {
      const page = await this.store.queryRuns({ limit: 200, ...(before ? { before } : {}) });
      for (const run of page) {
        for (const e of await this.store.readEvents(run.workflowSlug, run.runId, { category: "step" })) {
          if (e.type === "StepLinked" && e.entityType === q.entityType && e.entityId === q.entityId) found.push(e);
        }
      }
      const last = page[page.length - 1];
      if (!last || page.length < 200) break;
      before = { createdAtUs: last.createdAtUs, runId: last.runId };
    }
    return sortLinkEvents(found).slice(0, q.limit).map(stepLinkOf);
  }

  /** AI usage of one run, per model and in total (over the whole run, whatever its age). */
  async getRunUsage(runId: string): Promise<RunUsage> {
    assertIds({ runId });
    const run = await this.store.readRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    return computeRunUsage(runId, await this.loadEvents(run.workflowSlug, runId, { category: "step" }));
  }

  // ─── Tracked runs (the standalone tracker, createTracker in @cairn/client): see tracked-runs.ts ───────────────
  /**
   * Starts a tracked run: its RunSubmitted (marked `tracked`) and WorkflowStarted in one write, with no follow-up, so
   * the store engine never starts, schedules or ends it. The workflow need not be registered. Bad fields throw a typed
   * error (InvalidEventError, InvalidIdentifierError) and write nothing; an idempotency key returns the existing run.
   */
  async startTrackedRun(start: TrackedRunStart): Promise<{ runId: string; isNew: boolean }> {
    this.assertOpen();
    if (start === null || typeof start !== "object")
      throw new InvalidArgumentError("startTrackedRun takes { workflowSlug, input?, runType?, trigger?, … }.");
    const { workflowSlug, runId, input: value, runType, trigger, tags, metadata, idempotencyKey } = start;
    const picked = { workflowSlug, runId, runType, trigger, tags, metadata, idempotencyKey };
    const defined = Object.fromEntries(
      Object.entries(picked).filter(([, v]) => v !== undefined),
    ) as unknown as TrackedRunStart;
    const { event, input } = prepareSubmission(
      { ...defined, ...("input" in start ? { input: value } : {}) },
      this.clock.nowUs(),
    );
    const submitted = parseEvent({ ...event, tracked: true }) as EventOf<"RunSubmitted">;
    const started = this.makeEvent("WorkflowStarted", submitted.workflowSlug, submitted.runId, undefined, {
      workflowAttemptNumber: 1,
      hasInputSchema: false,
      hasInput: input !== undefined,
    });
    const result = await this.store.writeSubmission(submitted, [started]);
    if (result.created) return { runId: result.runId, isNew: true };
    const existing = await this.store.readRun(result.runId);
    if (!existing?.tracked)
      throw new InvalidArgumentError(
        `Idempotency key ${String(start.idempotencyKey)} names run ${result.runId}, which is not a tracked run; use another key. Nothing was written.`,
        { runId: result.runId },
      );
    return { runId: result.runId, isNew: false };
  }

  /**
   * Starts a step of a tracked run (StepStarted, attempt 1, never scheduled): only in an open tracked run, only once per
   * step. RunNotFoundError, RunTerminalError, or StepNotClaimableError (not a tracked run, or the step already started).
   * End it with saveStepComplete / saveStepFailed (attempt 1) as a worker does.
   */
  async startTrackedStep(
    workflowSlug: string,
    runId: string,
    stepId: string,
    workerId: string,
  ): Promise<{ attemptNumber: 1 }> {
    assertIds({ workflowSlug, runId, stepId });
    if (typeof workerId !== "string" || workerId.length === 0)
      throw new InvalidArgumentError("startTrackedStep needs a non-empty workerId (who records the step).");
    const ev = this.makeEvent("StepStarted", workflowSlug, runId, stepId, {
      workerId,
      dependencies: [],
      attemptNumber: 1,
    });
    const verdict = await this.store.writeEvents({ workflowSlug, runId, stepId }, { kind: "tracked-step" }, [ev]);
    if (verdict.ok) return { attemptNumber: 1 };
    if (verdict.reason === "run-missing") throw new RunNotFoundError(runId, workflowSlug);
    if (verdict.reason === "run-terminal")
      throw new RunTerminalError({ workflowSlug, runId, stepId, status: verdict.runStatus ?? "ended" });
    throw new StepNotClaimableError({ workflowSlug, runId, stepId });
  }
}
