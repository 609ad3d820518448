import type { StepWaits } from "./step-waits.js";
import type { CallUsage, LinkSpec } from "@cairn/backend-interface";
import type { AnyWorkflow, WorkflowInput } from "./define-workflow.js";

/** A step's retry policy as authors write it. */
export interface RetryOptions {
  /** Total attempts including the first (default 3). `1` means no retry. */
  attempts?: number;
  /** `fixed`: every retry waits `delayMs`; `exponential` (default): `delayMs * 2^(n-1)`. */
  backoff?: "fixed" | "exponential";
  /** First retry delay in ms (default 1000). */
  delayMs?: number;
  /** Upper bound of any delay in ms (default 60000). */
  maxDelayMs?: number;
  /** Randomise each delay between 50% and 100% of its value (default true), so retries of many runs spread out. */
  jitter?: boolean;
}

/** Logger handed to a step; every line is stored with the step attempt's logs. */
export interface StepLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}

/** What `ctx.call` records about a call besides its timing and outcome. */
export interface CallOptions<T = unknown> {
  /** The tool used, e.g. "stripe_api". */
  tool: string;
  /** The operation, e.g. "GET /charges". */
  operation: string;
  /** AI usage of the call, or a function reading it from the result (return undefined when there is none). */
  usage?: CallUsage | ((result: T) => CallUsage | undefined);
}

/** Item counts of a step's progress: how many items there are, and how many were processed, succeeded and failed. */
export interface ItemsProgress {
  itemsTotal?: number;
  itemsProcessed: number;
  itemsSucceeded?: number;
  itemsFailed?: number;
}

/** Progress as a fraction in [0, 1], as `{ current, total }`, or as item counts (non-negative integers). */
export type Progress = number | { current: number; total: number } | ItemsProgress;

/** What a step function receives. */
export interface StepContext<I = unknown, D = Record<string, unknown>> {
  /** The run input, parsed by the workflow's schema when it has one. */
  input: I;
  /** Outputs of the dependencies, keyed by step id. */
  deps: D;
  /** Fires on cancel, timeout, lost lease or worker shutdown; `signal.reason` says which. */
  signal: AbortSignal;
  log: StepLogger;
  /** Runs `fn` once per name: its saved result is replayed on retries instead of running it again. */
  checkpoint<T>(name: string, fn: () => T | Promise<T>): Promise<T>;
  /**
   * Runs `fn` and records it as a call of this attempt: tool and operation, start, duration, outcome, a bounded
   * summary of its result, the error when it throws (rethrown), and AI usage (`usage`: an object, or a function of the
   * result). Listed by `cairn run`, aggregated by `cairn analytics calls` and `cairn analytics usage`. A call without
   * a tool or operation, or with invalid usage, throws InvalidArgumentError and records nothing.
   */
  call<T>(options: CallOptions<T>, fn: () => T | Promise<T>): Promise<T>;
  /**
   * Adds to the run's counters (`{ fetched: 50, inserted: 30 }`: names of letters, digits, `_.-`; non-negative
   * integers), shown by `cairn run` and on the run (`counters`), summed by `cairn analytics counters`. Parallel steps
   * add up; a retry's counts replace the failed attempt's (not added twice). Saved within a second, and before the
   * attempt's outcome. Bad counters throw InvalidArgumentError and add nothing.
   */
  increment(counters: Record<string, number>): void;
  /**
   * Records that this attempt touched an entity (`{ linkType: "output", entityType: "transaction", entityId: "tx_123",
   * externalId? }`): `cairn run` lists a step's links, `cairn runs --entity transaction:tx_123` finds the runs and steps
   * that touched it. Saved like calls. A link without an entity type or id throws InvalidArgumentError.
   */
  link(link: LinkSpec): void;
  /**
   * Reports progress (item counts must be non-negative integers, else InvalidArgumentError): stored as the step's
   * latest progress (`StepState.progress`; consecutive reports between two saves keep only the last one) and with the
   * attempt's log lines (saved within a second) and shown live by `cairn submit --wait` and `cairn run`. */
  progress(progress: Progress, message?: string): void;
  /**
   * Runs `fn` as a child step named `name` (non-empty, at most 200 characters, no `/`): its status, start, duration,
   * result or error are recorded under this step, and the calls, links and counts made through the context `fn`
   * receives belong to the child (which can nest further with its own `step`). A finished child's result is saved
   * before `step` returns, so a retry of the step returns it without calling `fn`; a failed or unfinished child runs
   * again. A name used twice under one parent in one attempt throws InvalidArgumentError (use `page-${n}`); so does a
   * bad name, and nothing is recorded. Shown as a tree by `cairn run`.
   */
  step<T>(name: string, fn: (ctx: StepContext<I, D>) => T | Promise<T>): Promise<T>;
  /** Inside a child step (`step`): its path under the step (`load/parse`); undefined in the step itself. */
  childId: string | undefined;
  workflowSlug: string;
  runId: string;
  stepId: string;
  /** The attempt number, from 1. */
  attempt: number;
  /** The worker's and the workflow's services, each created on first read (a promise when its factory is async). */
  services: Readonly<Record<string, unknown>>;
  /** The worker's environment variables with the workflow's over them (never the whole process.env unless given). */
  env: Readonly<Record<string, string>>;
  /** The run's state: the patches given to `cairn resume --patch` / `resumeRun`, merged ({} when none). */
  state: Readonly<Record<string, unknown>>;
  /** Sleeps durably: gives back the slot and runs the step again after `duration` (earlier work replayed from checkpoints). */
  sleep: StepWaits["sleep"];
  /** Waits for a buffered signal named `name`: its payload, or null after `timeout`. */
  waitForEvent: StepWaits["waitForEvent"];
  /** Calls `check` on a durable schedule until it returns a value; PollTimeoutError after `timeout`. */
  poll: StepWaits["poll"];
}

const STEP_BRAND = Symbol.for("cairn.step");

/** Dependencies: step ids, or an object of imported step declarations keyed by step id (which types `ctx.deps`). */
export type DependencySpec = readonly string[] | { readonly [id: string]: AnyStep };

/** The outputs of a dependency spec, by step id. */
export type DependencyOutputs<D> = D extends readonly string[]
  ? { [K in D[number]]: unknown }
  : { [K in keyof D]: D[K] extends StepDeclaration<infer O> ? Awaited<O> : unknown };

/** What `defineStep` accepts. */
export interface StepSpec<W extends AnyWorkflow | undefined, D extends DependencySpec, O> {
  /** The workflow declaration (imported from `../workflow.ts`); only used to type `ctx.input`. */
  workflow?: W;
  /** Display name; default the step id. */
  name?: string;
  dependencies?: D;
  /** Put this step's output into the run's output (keyed by step id). */
  exportOutput?: boolean;
  retry?: RetryOptions;
  /** Abort and fail the attempt after this many ms. */
  timeoutMs?: number;
  run: (ctx: StepContext<W extends AnyWorkflow ? WorkflowInput<W> : unknown, DependencyOutputs<D>>) => O | Promise<O>;
}

/** A declared step: the default export of a file under `steps/`. */
export interface StepDeclaration<O = unknown> {
  readonly [STEP_BRAND]: true;
  readonly name?: string;
  /** Dependency step ids. */
  readonly dependencies: readonly string[];
  readonly exportOutput: boolean;
  readonly retry?: RetryOptions;
  readonly timeoutMs?: number;
  readonly run: (ctx: StepContext<any, any>) => O | Promise<O>;
}

/** Any step declaration. */
export type AnyStep = StepDeclaration<unknown>;

/**
 * Declares a step. Its id is its path under `steps/` without the extension (`steps/etl/extract.ts` → `etl/extract`).
 * Pass `workflow` to type `ctx.input` and give `dependencies` as `{ id: importedStep }` to type `ctx.deps`.
 */
export function defineStep<
  O,
  const D extends DependencySpec = readonly [],
  W extends AnyWorkflow | undefined = undefined,
>(spec: StepSpec<W, D, O>): StepDeclaration<O> {
  const deps =
    spec.dependencies === undefined
      ? []
      : Array.isArray(spec.dependencies)
        ? [...(spec.dependencies as readonly string[])]
        : Object.keys(spec.dependencies);
  return {
    [STEP_BRAND]: true,
    dependencies: deps,
    exportOutput: spec.exportOutput ?? false,
    run: spec.run as StepDeclaration<O>["run"],
    ...(spec.name === undefined ? {} : { name: spec.name }),
    ...(spec.retry === undefined ? {} : { retry: spec.retry }),
    ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
  };
}

/** True for a value made by defineStep (in any copy of this module). */
export function isStepDeclaration(value: unknown): value is AnyStep {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[STEP_BRAND] === true &&
    typeof (value as AnyStep).run === "function"
  );
}
