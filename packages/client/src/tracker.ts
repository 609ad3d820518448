import {
  childPath,
  InvalidArgumentError,
  progressReport,
  serializeValue,
  summarizeOutput,
  validateCallSpec,
  validateCallUsage,
  validateChildPath,
  validateChildStepName,
  validateIncrement,
  validateLinkSpec,
  type Backend,
  type CallInput,
  type CallUsage,
  type LinkInput,
  type LinkSpec,
  type LogEntry,
  type ProgressInput,
  type StepError,
} from "@cairn/backend-interface";
import { openBackend } from "./backend-url.js";

/** What `createTracker` takes. */
export interface TrackerOptions {
  /** A backend URL (`sqlite:./.cairn/cairn.db`, `file:./dir`, `postgres://…`), or a Backend the caller opened and closes. */
  backend: string | Backend;
  /** The directory relative paths of the URL resolve against; default `process.cwd()`. */
  cwd?: string;
  /** Who records the steps (their `claimedBy`); default `tracker:<pid>`. */
  trackerId?: string;
}

/** How a tracked run starts: its workflow slug (or, without one, its `runType` as the slug), trigger and input. */
export interface TrackedRunOptions {
  /** The run's workflow slug; default `runType`. One of the two is required. */
  workflowSlug?: string;
  /** What kind of run this is ("nightly-sync"); stored as the run's `runType`. */
  runType?: string;
  /** What started the run: "cron", "api", "webhook", … */
  trigger?: string;
  input?: unknown;
  runId?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  /** The same key returns the existing tracked run instead of recording a second one. */
  idempotencyKey?: string;
}

/** How a run or a step ended: with an output, or with an error. */
export type TrackedOutcome = { output?: unknown; error?: undefined } | { error: unknown; output?: undefined };

/** What `step.call` takes: the tool and operation, and the AI usage (or a function reading it from the result). */
export interface TrackedCallOptions<T = unknown> {
  tool: string;
  operation: string;
  usage?: CallUsage | ((result: T) => CallUsage | undefined);
}

/** A running step of a tracked run: what it can record, as a worker's `ctx` does. */
export interface TrackedStep {
  readonly workflowSlug: string;
  readonly runId: string;
  readonly stepId: string;
  /** Inside a child step (`step.step`): its path under the step (`load/parse`); undefined for the step itself. */
  readonly childId: string | undefined;
  /**
   * Runs `fn` as a child step (as `ctx.step`): its status, start, duration, result or error are recorded (StepChild)
   * when it ends, and the calls, links and counts made through the step `fn` receives belong to it. A name used twice
   * under one parent, or a bad name, throws InvalidArgumentError and records nothing.
   */
  step<T>(name: string, fn: (step: TrackedStep) => T | Promise<T>): Promise<T>;
  /** Runs `fn` and records the call (tool, operation, duration, outcome, output summary, error, usage); returns its result or rethrows. */
  call<T>(options: TrackedCallOptions<T>, fn: () => T | Promise<T>): Promise<T>;
  /** Records that the step touched an entity (saved with the step's calls, before its outcome). */
  link(link: LinkSpec): void;
  /** Adds to the run's counters (merged in memory, saved before the step's outcome). */
  increment(counters: Record<string, number>): void;
  /**
   * Reports progress as `ctx.progress` does (a fraction, `{ current, total }` or item counts): stored as a progress line
   * at most once a second (the latest report between two saves wins) and always before the step's outcome.
   */
  progress(progress: ProgressInput, message?: string): void;
}

/** A running tracked run. */
export interface TrackedRun {
  readonly workflowSlug: string;
  readonly runId: string;
  /** Records a step: starts it, runs `fn`, completes it with `fn`'s result or fails it with its error (rethrown). */
  step<T>(name: string, fn: (step: TrackedStep) => T | Promise<T>): Promise<T>;
}

/** Records runs done outside the worker with the events a worker writes; see docs/tracking.md ("Tracker"). */
export interface Tracker {
  /** Starts a run, runs `fn`, then completes the run with `fn`'s result or fails it with its error (rethrown). */
  executeRun<T>(
    options: TrackedRunOptions,
    fn: (run: TrackedRun) => T | Promise<T>,
  ): Promise<{ runId: string; output: T }>;
  /** Starts a tracked run (RunSubmitted marked `tracked`, WorkflowStarted); end it with `finishRun`. */
  startRun(options: TrackedRunOptions): Promise<TrackedRun>;
  /** Starts a step of a tracked run (StepStarted, attempt 1); end it with `finishStep`. */
  startStep(run: TrackedRun, name: string): Promise<TrackedStep>;
  /** Ends a step: saves its buffered calls, links and counters, then StepCompleted (`output`) or StepFailed (`error`, fingerprinted). */
  finishStep(step: TrackedStep, outcome?: TrackedOutcome): Promise<void>;
  /** Ends a run: WorkflowCompleted with `output`, or WorkflowFailed with `error`. A run that already ended is left as it is. */
  finishRun(run: TrackedRun, outcome?: TrackedOutcome): Promise<void>;
  /** Closes the backend when the tracker opened it from a URL. */
  close(): Promise<void>;
}

function errorData(err: unknown): StepError {
  if (err instanceof Error) return { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
  if (typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string") {
    const o = err as { name?: unknown; message: string; stack?: unknown };
    return {
      message: o.message,
      ...(typeof o.name === "string" ? { name: o.name } : {}),
      ...(typeof o.stack === "string" ? { stack: o.stack } : {}),
    };
  }
  return { message: String(err) };
}

interface RunBook {
  startedAt: number;
  steps: number;
  completed: number;
  failedStep?: string;
}
interface StepBook {
  /** Counts per child step ("" for the step itself), kept apart as the worker keeps them. */
  startedAt: number;
  calls: CallInput[];
  links: LinkInput[];
  counters: Map<string, Record<string, number>>;
  finished: boolean;
  /** The child paths used so far (a name twice under one parent is refused). */
  children: Set<string>;
  /** The latest progress line not saved yet, when the last save was, and the save under way. */
  progress?: LogEntry;
  progressSavedAt: number;
  saving: Promise<void>;
}

/** At most one progress save per step per this many ms. */
const PROGRESS_SAVE_MS = 1000;

/**
 * A tracker for work that runs outside the worker (a web request, a script, a serverless function): its runs are made
 * of the same events as a worker's, marked `tracked`, so they appear in `cairn runs`, `cairn run` and the analytics,
 * and no worker claims or reclaims their steps.
 */
export function createTracker(options: TrackerOptions): Tracker {
  const owned = typeof options.backend === "string";
  let opened: Promise<Backend> | undefined;
  const backend = (): Promise<Backend> =>
    (opened ??=
      typeof options.backend === "string"
        ? openBackend(options.backend, { cwd: options.cwd ?? process.cwd() })
        : Promise.resolve(options.backend));
  const trackerId = options.trackerId ?? `tracker:${process.pid}`;
  const runs = new WeakMap<TrackedRun, RunBook>();
  const steps = new WeakMap<TrackedStep, StepBook & { run: TrackedRun }>();

  const makeStep = (run: TrackedRun, stepId: string, childId?: string): TrackedStep => {
    const by = childId === undefined ? {} : { childId };
    const step: TrackedStep = {
      workflowSlug: run.workflowSlug,
      runId: run.runId,
      stepId,
      childId,
      async step<T>(name: string, fn: (step: TrackedStep) => T | Promise<T>): Promise<T> {
        const b = book(step);
        const id = childPath(childId, validateChildStepName(name));
        validateChildPath(id);
        if (typeof fn !== "function")
          throw new InvalidArgumentError(
            `step.step(${JSON.stringify(name)}, fn) needs a function. Nothing was recorded.`,
            { field: "fn" },
          );
        if (b.children.has(id))
          throw new InvalidArgumentError(
            `Child step ${JSON.stringify(id)} of step ${stepId} already ran; give each child of one parent its own name. Nothing was recorded.`,
            { field: "name" },
          );
        b.children.add(id);
        const child = makeStep(run, stepId, id);
        steps.set(child, b);
        const startedAtUs = Date.now() * 1000;
        const t0 = performance.now();
        const took = (): number => Math.max(0, Math.round((performance.now() - t0) * 1000));
        const save = async (
          record: { status: "ok"; output: string } | { status: "error"; error: StepError },
        ): Promise<void> => {
          await (
            await backend()
          ).saveStepChild(run.workflowSlug, run.runId, stepId, {
            attemptNumber: 1,
            childId: id,
            startedAtUs,
            durationUs: took(),
            ...record,
          });
        };
        let value: T;
        try {
          value = await fn(child);
        } catch (err) {
          await save({ status: "error", error: errorData(err) }).catch(() => {});
          throw err;
        }
        await save({ status: "ok", output: serializeValue(value) });
        return value;
      },
      async call<T>(o: TrackedCallOptions<T>, fn: () => T | Promise<T>): Promise<T> {
        const spec = validateCallSpec(o);
        if (o.usage !== undefined && typeof o.usage !== "function") validateCallUsage(o.usage);
        const startedAtUs = Date.now() * 1000;
        const t0 = performance.now();
        const took = (): number => Math.max(0, Math.round((performance.now() - t0) * 1000));
        let result: T;
        try {
          result = await fn();
        } catch (err) {
          book(step).calls.push({
            ...spec,
            attemptNumber: 1,
            startedAtUs,
            durationUs: took(),
            outcome: "error",
            error: errorData(err),
            ...by,
          });
          throw err;
        }
        const durationUs = took();
        const raw = typeof o.usage === "function" ? o.usage(result) : o.usage;
        const usage = raw === undefined ? undefined : validateCallUsage(raw);
        book(step).calls.push({
          ...spec,
          attemptNumber: 1,
          startedAtUs,
          durationUs,
          outcome: "ok",
          ...summarizeOutput(result),
          ...(usage ? { usage } : {}),
          ...by,
        });
        return result;
      },
      link(link: LinkSpec): void {
        book(step).links.push({ ...validateLinkSpec(link), attemptNumber: 1, ...by });
      },
      increment(counters: Record<string, number>): void {
        const b = book(step);
        const part = b.counters.get(childId ?? "") ?? {};
        for (const [name, n] of Object.entries(validateIncrement(counters))) part[name] = (part[name] ?? 0) + n;
        if (Object.keys(part).length) b.counters.set(childId ?? "", part);
      },
      progress(progress: ProgressInput, message?: string): void {
        const b = book(step);
        const report = progressReport(progress, message);
        b.progress = {
          timestampUs: Date.now() * 1000,
          stream: "stdout",
          message: report.line,
          attemptNumber: 1,
          progress: report.progress,
        };
        if (performance.now() - b.progressSavedAt >= PROGRESS_SAVE_MS)
          b.saving = b.saving.then(() => saveProgress(step, b, true));
      },
    };
    return step;
  };
  /** Saves the step's latest unsaved progress line; a failed save in the background keeps the line for the next one (the one at finishStep throws). */
  const saveProgress = async (step: TrackedStep, b: StepBook, background: boolean): Promise<void> => {
    const line = b.progress;
    if (!line) return;
    b.progress = undefined;
    b.progressSavedAt = performance.now();
    try {
      await (await backend()).saveStepLogs(step.workflowSlug, step.runId, step.stepId, [line]);
    } catch (err) {
      b.progress ??= line;
      if (!background) throw err;
    }
  };
  const book = (step: TrackedStep): StepBook & { run: TrackedRun } => {
    const b = steps.get(step);
    if (!b)
      throw new InvalidArgumentError("Not a step of this tracker: start steps with tracker.startStep or run.step.");
    if (b.finished)
      throw new InvalidArgumentError(`Step ${step.stepId} of run ${step.runId} has finished; it records nothing more.`);
    return b;
  };

  const tracker: Tracker = {
    async startRun(o: TrackedRunOptions): Promise<TrackedRun> {
      if (o === null || typeof o !== "object")
        throw new InvalidArgumentError("startRun takes { workflowSlug or runType, trigger?, input? }.");
      const workflowSlug = o.workflowSlug ?? o.runType;
      if (workflowSlug === undefined)
        throw new InvalidArgumentError(
          "A tracked run needs a workflowSlug or a runType (used as its slug). Nothing was written.",
        );
      const b = await backend();
      const { runId } = await b.startTrackedRun({
        workflowSlug,
        ...(o.runId !== undefined ? { runId: o.runId } : {}),
        ...("input" in o ? { input: o.input } : {}),
        ...(o.runType !== undefined ? { runType: o.runType } : {}),
        ...(o.trigger !== undefined ? { trigger: o.trigger } : {}),
        ...(o.tags ? { tags: o.tags } : {}),
        ...(o.metadata ? { metadata: o.metadata } : {}),
        ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey } : {}),
      });
      const run: TrackedRun = {
        workflowSlug,
        runId,
        async step<T>(name: string, fn: (step: TrackedStep) => T | Promise<T>): Promise<T> {
          const step = await tracker.startStep(run, name);
          let value: T;
          try {
            value = await fn(step);
          } catch (err) {
            await tracker.finishStep(step, { error: err });
            throw err;
          }
          await tracker.finishStep(step, { output: value });
          return value;
        },
      };
      runs.set(run, { startedAt: performance.now(), steps: 0, completed: 0 });
      return run;
    },

    async startStep(run: TrackedRun, name: string): Promise<TrackedStep> {
      const r = runs.get(run);
      if (!r)
        throw new InvalidArgumentError(
          "Not a run of this tracker: start runs with tracker.startRun or tracker.executeRun.",
        );
      await (await backend()).startTrackedStep(run.workflowSlug, run.runId, name, trackerId);
      r.steps++;
      const step = makeStep(run, name);
      steps.set(step, {
        run,
        startedAt: performance.now(),
        calls: [],
        links: [],
        counters: new Map(),
        children: new Set(),
        finished: false,
        progressSavedAt: 0,
        saving: Promise.resolve(),
      });
      return step;
    },

    async finishStep(step: TrackedStep, outcome: TrackedOutcome = {}): Promise<void> {
      const s = book(step);
      if (step.childId !== undefined)
        throw new InvalidArgumentError(
          `${step.childId} is a child step: it ends when its step.step callback returns; finish its step ${step.stepId} instead.`,
        );
      s.finished = true;
      const b = await backend();
      const { workflowSlug, runId, stepId } = step;
      await s.saving;
      await saveProgress(step, s, false);
      if (s.calls.length) await b.saveStepCalls(workflowSlug, runId, stepId, s.calls);
      if (s.links.length) await b.saveStepLinks(workflowSlug, runId, stepId, s.links);
      if (s.counters.size)
        await b.incrementRunCounterParts(
          workflowSlug,
          runId,
          stepId,
          1,
          [...s.counters].map(([child, counters]) => ({ counters, ...(child === "" ? {} : { childId: child }) })),
        );
      const duration = Math.max(0, Math.round((performance.now() - s.startedAt) * 1000));
      const r = runs.get(s.run);
      if ("error" in outcome) {
        await b.saveStepFailed(workflowSlug, runId, stepId, errorData(outcome.error), {
          duration,
          attemptNumber: 1,
          terminal: true,
          failureReason: "execution-error",
        });
        if (r && r.failedStep === undefined) r.failedStep = stepId;
      } else {
        await b.saveStepComplete(workflowSlug, runId, stepId, outcome.output ?? null, {
          timestamp: Date.now() * 1000,
          duration,
          attemptNumber: 1,
          output: outcome.output ?? null,
        });
        if (r) r.completed++;
      }
    },

    async finishRun(run: TrackedRun, outcome: TrackedOutcome = {}): Promise<void> {
      const r = runs.get(run);
      if (!r)
        throw new InvalidArgumentError(
          "Not a run of this tracker: start runs with tracker.startRun or tracker.executeRun.",
        );
      const b = await backend();
      const duration = Math.max(0, Math.round((performance.now() - r.startedAt) * 1000));
      if ("error" in outcome) {
        const error = errorData(outcome.error);
        await b.failRunIfOpen(
          run.workflowSlug,
          run.runId,
          r.failedStep ? { ...error, message: `step ${r.failedStep} failed: ${error.message}` } : error,
          {
            workflowAttemptNumber: 1,
            duration,
            completedSteps: r.completed,
            ...(r.failedStep ? { failedStep: r.failedStep } : {}),
          },
          "step-failed",
        );
      } else {
        await b.completeRunIfOpen(run.workflowSlug, run.runId, outcome.output ?? null, {
          workflowAttemptNumber: 1,
          timestamp: Date.now() * 1000,
          duration,
          totalSteps: r.steps,
        });
      }
    },

    async executeRun<T>(
      o: TrackedRunOptions,
      fn: (run: TrackedRun) => T | Promise<T>,
    ): Promise<{ runId: string; output: T }> {
      const run = await tracker.startRun(o);
      let output: T;
      try {
        output = await fn(run);
      } catch (err) {
        await tracker.finishRun(run, { error: err });
        throw err;
      }
      await tracker.finishRun(run, { output });
      return { runId: run.runId, output };
    },

    async close(): Promise<void> {
      if (owned && opened) await (await opened).close();
    },
  };
  return tracker;
}
