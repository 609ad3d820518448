import { deserializeValue, type Backend, type RunState, type StepError, type StepRef } from "@cairn/backend-interface";
import type { LoadedWorkflow } from "./discovery.js";
import type { Recorded } from "./record-outcome.js";
import { cancelOwner, isFirstStart, runEndedBy, type RunEnd, type WriteAnchor } from "./run-transitions.js";
import { errorData } from "./step-context.js";
import type { WorkerEvents } from "./worker-events.js";
import type { Services, WorkerServices } from "./worker-services.js";

/** What every lifecycle hook receives. */
export interface RunHookContext<I = unknown> {
  workflowSlug: string;
  runId: string;
  /** The run input (as submitted, not schema-parsed). */
  input: I;
  /** The run as recorded after the transition. */
  run: RunState;
  services: Services;
  env: Readonly<Record<string, string>>;
  /** The worker (or serverless host) calling the hook. */
  workerId: string;
}

/**
 * Hooks on a workflow, each called once per run (per workflow attempt) by the worker whose write made the
 * transition, after it is recorded: `onComplete` and `onFail` by the worker that ended the last step (or reclaimed
 * it, or timed the run out), `onStart` by the worker that started its first step, `onCancel` by the worker that ran
 * the lowest-id step running at the cancel. A hook's failure is an `error` worker event and a stderr log line on the
 * step; it never changes the run.
 */
export interface LifecycleHooks<I = unknown> {
  onStart?: (ctx: RunHookContext<I>) => void | Promise<void>;
  onComplete?: (ctx: RunHookContext<I> & { output: unknown }) => void | Promise<void>;
  onFail?: (
    ctx: RunHookContext<I> & { error: StepError; reason?: string; failedStep?: string },
  ) => void | Promise<void>;
  onCancel?: (ctx: RunHookContext<I> & { reason?: string }) => void | Promise<void>;
}

/** The name of a lifecycle hook. */
export type HookName = keyof LifecycleHooks;

/** What HookRunner needs of the worker. */
export interface HookRunnerOptions {
  backend: Backend;
  events: WorkerEvents;
  services: WorkerServices;
  env: Record<string, string>;
  workerId: string;
}

/** Finds the transitions this worker's writes made and calls the workflow's hooks for them. Never throws. */
export class HookRunner {
  constructor(private readonly o: HookRunnerOptions) {}

  /** After a claim: `onStart` when this attempt is the run's first step since it started. */
  async afterClaim(workflow: LoadedWorkflow, ref: StepRef, attempt: number): Promise<void> {
    if (!workflow.declaration.onStart) return;
    await this.guard(workflow, ref, async () => {
      const events = await this.o.backend.loadEvents(ref.workflowSlug, ref.runId);
      if (isFirstStart(events, ref.stepId, attempt)) await this.call(workflow, ref, attempt, "onStart", {});
    });
  }

  /** After an attempt's outcome was written: `onComplete` / `onFail` when that write ended the run, `onCancel` as above. */
  async afterRecorded(
    workflow: LoadedWorkflow,
    ref: StepRef,
    attempt: number,
    recorded: Recorded | "error",
  ): Promise<void> {
    const d = workflow.declaration;
    const anchor = ANCHORS[recorded as keyof typeof ANCHORS];
    if (anchor && (d.onComplete || d.onFail)) {
      await this.guard(workflow, ref, async () => {
        if (!(await this.runIs(ref.runId, ["completed", "failed"]))) return; // one row read for every step but the last
        const end = runEndedBy(await this.o.backend.loadEvents(ref.workflowSlug, ref.runId), {
          type: anchor,
          stepId: ref.stepId,
          attemptNumber: attempt,
        });
        if (end) await this.ended(workflow, ref, attempt, end);
      });
    } else if ((recorded === "cancelled" || recorded === "stale") && d.onCancel) {
      await this.guard(workflow, ref, async () => {
        if (!(await this.runIs(ref.runId, ["cancelled"]))) return;
        const owner = cancelOwner(await this.o.backend.loadEvents(ref.workflowSlug, ref.runId));
        if (owner?.stepId === ref.stepId && owner.attemptNumber === attempt)
          await this.call(workflow, ref, attempt, "onCancel", {});
      });
    }
  }

  /** After a maintenance round of this worker: `onFail` for the runs it timed out or whose reclaimed step it failed. */
  async afterMaintenance(
    workflows: ReadonlyMap<string, LoadedWorkflow>,
    reclaimed: StepRef[],
    timedOut: string[],
  ): Promise<void> {
    for (const ref of reclaimed) {
      const wf = workflows.get(ref.workflowSlug);
      if (!wf?.declaration.onFail) continue;
      await this.guard(wf, ref, async () => {
        const events = await this.o.backend.loadEvents(ref.workflowSlug, ref.runId);
        const reclaims = events.filter(
          (e) => e.type === "StepReclaimed" && e.stepId === ref.stepId && e.reclaimedBy === this.o.workerId,
        );
        const reclaim = reclaims[reclaims.length - 1];
        if (reclaim?.type !== "StepReclaimed") return;
        const end = runEndedBy(events, {
          type: "StepReclaimed",
          stepId: ref.stepId,
          attemptNumber: reclaim.attemptNumber,
          reclaimedBy: this.o.workerId,
        });
        if (end) await this.ended(wf, ref, reclaim.attemptNumber, end);
      });
    }
    for (const runId of timedOut) {
      const run = await this.o.backend.getRun(runId).catch(() => null);
      const wf = run ? workflows.get(run.workflowSlug) : undefined;
      if (!run || !wf?.declaration.onFail) continue;
      // A run-level end has no step of its own: a hook failure is logged on the run's first step.
      const ref = { workflowSlug: run.workflowSlug, runId, stepId: run.failedStep ?? wf.steps[0]!.id };
      await this.call(wf, ref, 1, "onFail", { error: run.error ?? { message: "run timed out" }, reason: "timeout" });
    }
  }

  private async runIs(runId: string, statuses: readonly RunState["status"][]): Promise<boolean> {
    const run = await this.o.backend.getRun(runId);
    return run !== null && statuses.includes(run.status);
  }

  private async ended(workflow: LoadedWorkflow, ref: StepRef, attempt: number, end: RunEnd): Promise<void> {
    if (end.type === "WorkflowCompleted")
      await this.call(workflow, ref, attempt, "onComplete", { output: deserializeValue(end.output) });
    else
      await this.call(workflow, ref, attempt, "onFail", {
        error: end.error,
        reason: end.failureReason,
        ...(end.failedStep ? { failedStep: end.failedStep } : {}),
      });
  }

  /** Calls the hook; its failure is an `error` event and a stderr line on the step's attempt, never thrown. */
  private async call(
    workflow: LoadedWorkflow,
    ref: StepRef,
    attempt: number,
    hook: HookName,
    extra: Record<string, unknown>,
  ): Promise<void> {
    const fn = workflow.declaration[hook] as ((ctx: RunHookContext) => unknown) | undefined;
    if (!fn) return;
    try {
      const run = await this.o.backend.getRun(ref.runId);
      if (!run) return;
      const ctx: RunHookContext = {
        workflowSlug: ref.workflowSlug,
        runId: ref.runId,
        input: deserializeValue(run.input),
        run,
        workerId: this.o.workerId,
        services: this.o.services.view(workflow.slug, workflow.declaration.services),
        env: Object.freeze({ ...this.o.env, ...workflow.declaration.env }),
      };
      await fn({ ...ctx, ...extra });
      this.o.events.emit({ type: "run:hook", hook, workflowSlug: ref.workflowSlug, runId: ref.runId, ok: true });
    } catch (err) {
      const e = errorData(err);
      this.o.events.emit({
        type: "run:hook",
        hook,
        workflowSlug: ref.workflowSlug,
        runId: ref.runId,
        ok: false,
        message: e.message,
      });
      this.o.events.emit({ type: "error", where: `${hook} hook of ${workflow.slug}/${ref.runId}`, error: err });
      const line = {
        timestampUs: this.o.backend.clock.nowUs(),
        stream: "stderr" as const,
        message: `[hook ${hook}] failed: ${e.name ?? "Error"}: ${e.message}`,
        attemptNumber: Math.max(1, attempt),
      };
      await this.o.backend.saveStepLogs(ref.workflowSlug, ref.runId, ref.stepId, [line]).catch(() => {});
    }
  }

  /** Runs the reads that find a transition; their failure is an `error` event, never thrown. */
  private async guard(workflow: LoadedWorkflow, ref: StepRef, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.o.events.emit({ type: "error", where: `lifecycle hooks of ${workflow.slug}/${ref.runId}`, error: err });
    }
  }
}

/** The event that begins the write of each recorded outcome that may end a run. */
const ANCHORS = { completed: "StepCompleted", skipped: "StepSkipped", failed: "StepFailed" } as const satisfies Partial<
  Record<Recorded, WriteAnchor["type"]>
>;
