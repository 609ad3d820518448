import type { BackendDriver } from "./backend-driver.js";
import { BackendSteps } from "./backend-steps.js";
import type { Event, EventOf } from "./events.js";
import { StepWaitSchema, type StepWait } from "./events.js";
import { InvalidArgumentError, RunNotFoundError, RunTerminalError } from "./errors.js";
import { assertIds, assertRunId, assertWorkflowSlug, isValidIdentifier } from "./identifiers.js";
import { newEventId } from "./ids.js";
import { HELD_AVAILABLE_AT_US } from "./project-step.js";
import type { RunState } from "./run-state.js";
import { signalMatches } from "./run-waits.js";
import { isTerminalRunStatus } from "./schemas.js";
import type { StepState } from "./step-state.js";

/** A step that waits, as listWaitingSteps returns it. */
export type WaitingStep = StepState & { waiting: NonNullable<StepState["waiting"]> };

/** The step a run waits on, when the run is waiting: running, no step running or ready now, and a step waiting. Pure. */
export function runWaitingOn(run: RunState, steps: readonly StepState[], nowUs: number): WaitingStep | null {
  if (run.status !== "running") return null;
  if (steps.some((s) => s.status === "running" || (s.status === "scheduled" && (s.availableAtUs ?? 0) <= nowUs)))
    return null;
  return (steps.find((s) => s.status === "scheduled" && s.waiting !== undefined) as WaitingStep | undefined) ?? null;
}

/** Serialises a signal payload or state patch; InvalidArgumentError (nothing written) when it is not JSON. */
function jsonText(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    throw new InvalidArgumentError(
      `The ${what} is not JSON (${(err as Error).message}); pass plain data: objects, arrays, strings, numbers, booleans, null.`,
    );
  }
  if (typeof text !== "string")
    throw new InvalidArgumentError(
      `The ${what} is not JSON; pass plain data: objects, arrays, strings, numbers, booleans, null.`,
    );
  return text;
}

function assertSignalName(name: unknown, field = "name"): asserts name is string {
  if (!isValidIdentifier("workflowSlug", name)) {
    throw new InvalidArgumentError(
      `Invalid signal ${field} ${JSON.stringify(name)}: use letters, digits, "-", "_" and "." (at most 128 characters).`,
    );
  }
}

/**
 * The waits layer of Backend: pausing and resuming runs and workflows, signals, and the durable waits of steps
 * (sleep, waitForEvent, poll). What happens to a run is decided in the store: every write here carries the engine's
 * follow-up (run-waits.ts), so a signal wakes the step waiting for it, and a pause holds the run's scheduled steps,
 * in the same atomic write.
 */
export abstract class BackendWaits<D extends BackendDriver = BackendDriver> extends BackendSteps<D> {
  /** A live run by id: RunNotFoundError when unknown, RunTerminalError when it ended. */
  private async liveRun(runId: string): Promise<RunState> {
    assertRunId(runId);
    const run = await this.store.readRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    if (isTerminalRunStatus(run.status))
      throw new RunTerminalError({ workflowSlug: run.workflowSlug, runId, status: run.status });
    return run;
  }

  /** One workflow event on a live run, with the engine's follow-up; RunTerminalError when the run ended meanwhile. */
  private async writeRunEvent(run: RunState, events: Event[]): Promise<void> {
    const target = { workflowSlug: run.workflowSlug, runId: run.runId };
    const verdict = await this.writeAdvancing(target, { kind: "run-open" }, events);
    if (!verdict.ok) throw new RunTerminalError({ ...target, status: verdict.runStatus ?? "ended" });
  }

  /**
   * Pauses a run: from this write on it schedules and claims nothing new (its scheduled steps are held in the same
   * write); steps already running finish. Returns false when it was already paused. RunTerminalError for an ended run.
   */
  async pauseRun(runId: string, options: { reason?: string } = {}): Promise<{ paused: boolean }> {
    const run = await this.liveRun(runId);
    if (run.paused) return { paused: false };
    await this.writeRunEvent(run, [
      this.makeEvent("WorkflowPaused", run.workflowSlug, runId, undefined, {
        scope: "run",
        ...(options.reason ? { reason: options.reason } : {}),
      }),
    ]);
    return { paused: true };
  }

  /**
   * Resumes a paused run (its held steps become claimable in the same write), merging `patch` (a JSON object) into
   * the run's state that steps read as `ctx.state`. A patch on a run that is not paused is still merged.
   */
  async resumeRun(runId: string, options: { patch?: Record<string, unknown> } = {}): Promise<{ resumed: boolean }> {
    const patch = options.patch === undefined ? undefined : this.patchText(options.patch);
    const run = await this.liveRun(runId);
    if (!run.paused && patch === undefined) return { resumed: false };
    await this.writeRunEvent(run, [
      this.makeEvent("WorkflowResumed", run.workflowSlug, runId, undefined, {
        scope: "run",
        ...(patch ? { patch } : {}),
      }),
    ]);
    return { resumed: run.paused !== undefined };
  }

  private patchText(patch: unknown): string {
    if (typeof patch !== "object" || patch === null || Array.isArray(patch))
      throw new InvalidArgumentError('The state patch must be a JSON object, e.g. {"approved": true}.');
    return jsonText(patch, "state patch");
  }

  /**
   * Pauses a workflow: marks its registration (runs submitted from now on start paused) and pauses each of its live
   * runs. A submission racing the mark is settled by the submitter (settleWorkflowPause): it writes its run, then reads
   * the stored registration, so either this scan sees the run or that read sees the mark. Returns how many runs it
   * paused. WorkflowNotFoundError when the workflow was never registered.
   */
  async pauseWorkflow(workflowSlug: string, options: { reason?: string } = {}): Promise<{ runs: number }> {
    assertWorkflowSlug(workflowSlug);
    await this.markWorkflowPaused(workflowSlug, {
      atUs: this.clock.nowUs(),
      ...(options.reason ? { reason: options.reason } : {}),
    });
    let runs = 0;
    for (const run of await this.liveRunsOf(workflowSlug)) if (await this.holdForWorkflow(run, options.reason)) runs++;
    return { runs };
  }

  /** Ends a workflow's pause: clears the mark and resumes its runs paused by it (a run paused on its own stays paused). */
  async resumeWorkflow(workflowSlug: string): Promise<{ runs: number }> {
    assertWorkflowSlug(workflowSlug);
    await this.markWorkflowPaused(workflowSlug, undefined);
    let runs = 0;
    for (const run of await this.liveRunsOf(workflowSlug)) if (await this.releaseForWorkflow(run)) runs++;
    return { runs };
  }

  /**
   * After submissions created runs, each through the registration its submitter read (pausedByWorkflow): the
   * workflow's pause as stored after the run was written decides. A run that missed a pause written meanwhile is
   * paused, and a run held by a pause that ended meanwhile is resumed. With pauseWorkflow and resumeWorkflow writing
   * their mark before scanning the live runs, a run is never left on the wrong side of the mark, whatever the
   * submitter's registration cache held or however long its write took. The pause is the one the write reported
   * (`workflowPaused`, read serialised with the mark's writes) or else the registration read now, after the write.
   */
  protected async settleWorkflowPause(
    created: ReadonlyArray<{ event: EventOf<"RunSubmitted">; workflowPaused?: boolean | undefined }>,
  ): Promise<void> {
    const stored = new Map<string, { reason?: string } | undefined>();
    const pauseOf = async (slug: string) => {
      if (!stored.has(slug)) stored.set(slug, (await this.freshRegistration(slug))?.paused);
      return stored.get(slug);
    };
    for (const { event, workflowPaused } of created) {
      if (workflowPaused !== undefined && workflowPaused === Boolean(event.pausedByWorkflow)) continue;
      const pause = await pauseOf(event.workflowSlug);
      if (Boolean(pause) === Boolean(event.pausedByWorkflow)) continue;
      const run = await this.store.readRun(event.runId);
      if (!run || isTerminalRunStatus(run.status)) continue;
      if (pause) await this.holdForWorkflow(run, pause.reason);
      else await this.releaseForWorkflow(run);
    }
  }

  /** Pauses a live run for its workflow's pause; false when it was already paused or has ended. */
  private async holdForWorkflow(run: RunState, reason: string | undefined): Promise<boolean> {
    if (run.paused) return false;
    const ev = this.makeEvent("WorkflowPaused", run.workflowSlug, run.runId, undefined, {
      scope: "workflow",
      ...(reason ? { reason } : {}),
    });
    return (await this.writeAdvancing({ workflowSlug: run.workflowSlug, runId: run.runId }, { kind: "run-open" }, [ev]))
      .ok;
  }

  /** Resumes a live run its workflow's pause held; false when something else paused it, or it is not paused. */
  private async releaseForWorkflow(run: RunState): Promise<boolean> {
    if (run.paused?.scope !== "workflow") return false;
    const ev = this.makeEvent("WorkflowResumed", run.workflowSlug, run.runId, undefined, { scope: "workflow" });
    return (await this.writeAdvancing({ workflowSlug: run.workflowSlug, runId: run.runId }, { kind: "run-open" }, [ev]))
      .ok;
  }

  private async liveRunsOf(workflowSlug: string): Promise<RunState[]> {
    const out: RunState[] = [];
    let before: { createdAtUs: number; runId: string } | undefined;
    for (;;) {
      const page = await this.store.queryRuns({
        workflowSlug,
        status: ["pending", "running"],
        limit: 500,
        ...(before ? { before } : {}),
      });
      out.push(...page);
      const last = page[page.length - 1];
      if (page.length < 500 || !last) return out;
      before = { createdAtUs: last.createdAtUs, runId: last.runId };
    }
  }

  /**
   * Delivers a signal to a run. Signals are buffered: a step that waits for `name` later takes the earliest one it
   * matches; a step waiting now is woken in this same write. The same `id` twice is one signal. RunNotFoundError for an
   * unknown run, RunTerminalError for an ended one, InvalidArgumentError for a payload that is not JSON: nothing written.
   */
  async signal(
    runId: string,
    name: string,
    payload?: unknown,
    options: { id?: string } = {},
  ): Promise<{ signalId: string; isNew: boolean }> {
    assertSignalName(name);
    if (options.id !== undefined) assertSignalName(options.id, "id");
    const text = jsonText(payload, "signal payload");
    const run = await this.liveRun(runId);
    const signalId = options.id ?? newEventId(this.clock.nowUs());
    if (run.signals?.some((g) => g.signalId === signalId)) return { signalId, isNew: false };
    await this.writeRunEvent(run, [
      this.makeEvent("SignalReceived", run.workflowSlug, runId, undefined, { signalId, name, payload: text }),
    ]);
    return { signalId, isNew: true };
  }

  /**
   * Delivers a signal named `name` to every run with a step waiting for it now whose `match` holds (what an emitted
   * event does for waitForEvent). Idempotent by `id`: a run that has the signal already is left alone. Returns the runs
   * it signalled.
   */
  async signalWaiting(
    name: string,
    payload?: unknown,
    options: { id?: string } = {},
  ): Promise<{ signalId: string; runIds: string[] }> {
    assertSignalName(name);
    if (options.id !== undefined) assertSignalName(options.id, "id");
    const text = jsonText(payload, "signal payload");
    const signalId = options.id ?? newEventId(this.clock.nowUs());
    const runIds = [
      ...new Set(
        (await this.listWaitingSteps({ name })).filter((s) => signalMatches(text, s.waiting.match)).map((s) => s.runId),
      ),
    ];
    const out: string[] = [];
    for (const runId of runIds) {
      try {
        if ((await this.signal(runId, name, payload, { id: signalId })).isNew) out.push(runId);
      } catch (err) {
        if (!(err instanceof RunTerminalError)) throw err; // ended meanwhile: nothing to deliver
      }
    }
    return { signalId, runIds: out };
  }

  /** Steps of live runs waiting now (scheduled after a wait), of one signal name and/or workflow when given. */
  async listWaitingSteps(filter: { name?: string; workflowSlug?: string } = {}): Promise<WaitingStep[]> {
    if (filter.workflowSlug !== undefined) assertWorkflowSlug(filter.workflowSlug);
    const store = this.store;
    if (filter.name !== undefined && store.queryWaitingSteps) {
      const found = await store.queryWaitingSteps(filter.name);
      return found.filter(
        (s): s is WaitingStep =>
          s.status === "scheduled" &&
          s.waiting?.kind === "event" &&
          s.waiting.name === filter.name &&
          (filter.workflowSlug === undefined || s.workflowSlug === filter.workflowSlug),
      );
    }
    const live = await store.loadLiveState(
      filter.workflowSlug === undefined ? {} : { workflowSlug: filter.workflowSlug },
    );
    const liveRuns = new Set(live.runs.filter((r) => !isTerminalRunStatus(r.status)).map((r) => r.runId));
    return live.steps.filter(
      (s): s is WaitingStep =>
        s.status === "scheduled" &&
        s.waiting !== undefined &&
        liveRuns.has(s.runId) &&
        (filter.name === undefined || (s.waiting.kind === "event" && s.waiting.name === filter.name)),
    );
  }

  /**
   * Records that running attempt `attemptNumber` gives back its slot to wait (fenced on the attempt): StepWaiting and,
   * in the same write, StepScheduled (reason `wake`) of the next attempt, available when the wait ends on its own
   * (far in the future when only a signal ends it). A buffered signal the wait matches wakes it in that write.
   */
  async saveStepWaiting(
    workflowSlug: string,
    runId: string,
    stepId: string,
    metadata: { attemptNumber: number; wait: StepWait; duration: number },
  ): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const parsed = StepWaitSchema.safeParse(metadata.wait);
    if (!parsed.success)
      throw new InvalidArgumentError(
        `Invalid wait: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
    if (parsed.data.match !== undefined) jsonText(parsed.data.match, "wait match");
    const n = metadata.attemptNumber;
    const events: Event[] = [
      this.makeEvent("StepWaiting", workflowSlug, runId, stepId, {
        attemptNumber: n,
        wait: parsed.data,
        durationUs: Math.max(0, Math.round(metadata.duration)),
      }),
      this.makeEvent("StepScheduled", workflowSlug, runId, stepId, {
        availableAtUs: Math.min(parsed.data.untilUs ?? HELD_AVAILABLE_AT_US, HELD_AVAILABLE_AT_US),
        reason: "wake",
        attemptNumber: n + 1,
      }),
    ];
    await this.fenced({ workflowSlug, runId, stepId }, { kind: "attempt", attemptNumber: n }, events, n);
  }

  /** The runs waiting now (see runWaitingOn), newest first, of one workflow when given, with the step each waits on. */
  async listWaitingRuns(
    options: { workflowSlug?: string; limit?: number } = {},
  ): Promise<Array<{ run: RunState; step: WaitingStep }>> {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1)
      throw new InvalidArgumentError(`limit must be a positive integer, got ${limit}.`);
    const waiting = await this.listWaitingSteps(
      options.workflowSlug === undefined ? {} : { workflowSlug: options.workflowSlug },
    );
    const runIds = [...new Set(waiting.map((s) => s.runId))];
    const contexts = await this.readRunContexts(runIds);
    const nowUs = this.clock.nowUs();
    const out: Array<{ run: RunState; step: WaitingStep }> = [];
    for (const ctx of contexts.values()) {
      const step = runWaitingOn(ctx.run, ctx.steps, nowUs);
      if (step) out.push({ run: ctx.run, step });
    }
    out.sort((a, b) => b.run.createdAtUs - a.run.createdAtUs || (a.run.runId < b.run.runId ? 1 : -1));
    return out.slice(0, limit);
  }
}
