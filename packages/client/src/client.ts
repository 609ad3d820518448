import {
  CairnError,
  deserializeValue,
  InvalidArgumentError,
  parseEntityRef,
  RunNotFoundError,
  TenantView,
  assertTenantId,
  type Backend,
  type CallRecord,
  type ChildStepRecord,
  type EmitOptions,
  type EmitResult,
  type ListRunsOptions,
  type ScheduleInfo,
  type RunState,
  type RunUsage,
  type StepLink,
  type StepState,
  type SubmitOutcome,
  type FeedPage,
  type FeedSubscription,
  type ReadFeedOptions,
  type SubscribeFeedOptions,
} from "@cairn/backend-interface";
import { openBackend } from "./backend-url.js";
import { describeRun, submit, submitMany, waitForRun, type SubmitOptions } from "./run-operations.js";
import { resolveWorkflowSlug, type SubmitInput, type WorkflowRef } from "./workflow-ref.js";

/** What `createClient` takes. */
export interface ClientOptions {
  /** A backend URL (`sqlite:./.cairn/cairn.db`, `file:./dir`, `postgres://…`), or a Backend the caller opened and closes. */
  backend: string | Backend;
  /** The directory relative paths of the URL resolve against; default `process.cwd()`. */
  cwd?: string;
  /** How often `wait` reads the run on a backend without notifications; default 250 ms. */
  pollMs?: number;
  /**
   * Scopes the client to one tenant (`backend.forTenant(tenant)`): submits stamp the tenant id, and every read, list
   * and change sees only the tenant's runs (another tenant's run id reads as RUN_NOT_FOUND). The calls that span
   * every tenant (emit, pauseWorkflow, readFeed, subscribeFeed) are refused with INVALID_ARGUMENT; `backend()` still
   * returns the unscoped Backend.
   */
  tenant?: string;
}

/** A run as the client returns it: the backend's RunState with its input and output decoded from their JSON text. */
export type ClientRun = Omit<RunState, "input" | "output"> & {
  /** The run input, decoded; `undefined` when the run has none. */
  input: unknown;
  /** The run output (the exported steps' outputs by step id), decoded; `undefined` until the run completes. */
  output: unknown;
};

/** Options of a submission besides its workflow and input. */
export type RunSubmitOptions = Omit<SubmitOptions, "workflow" | "input" | "availableAtUs"> & {
  /** Do not start the run before this instant. */
  availableAt?: Date;
};

/** One item of `submitMany`. */
export type SubmitItem<W extends string | WorkflowRef = string | WorkflowRef> = RunSubmitOptions & {
  workflow: W;
  input?: SubmitInput<W>;
};

/** A submitted run: its id and whether this call created it (`false`: the idempotency key named an existing run). */
export interface SubmittedRun {
  runId: string;
  isNew: boolean;
}

/** The arguments of `submit` after the workflow: the input (optional when the workflow takes any) and the options. */
export type SubmitArgs<W> =
  unknown extends SubmitInput<W>
    ? [input?: unknown, options?: RunSubmitOptions]
    : [input: SubmitInput<W>, options?: RunSubmitOptions];

/** What application code uses to submit and follow runs, without the worker or the CLI. */
export interface CairnClient {
  /**
   * Submits a run of a workflow (a slug or its declaration); the input is typed from the declaration's schema and
   * checked against the registered one. The same idempotency key returns the existing run (`isNew: false`).
   */
  submit<W extends string | WorkflowRef>(workflow: W, ...args: SubmitArgs<W>): Promise<SubmittedRun>;
  /** Submits many runs in one write where the driver can; outcomes in item order, each the run or that item's error. */
  submitMany<const W extends ReadonlyArray<string | WorkflowRef>>(items: {
    readonly [K in keyof W]: SubmitItem<W[K]>;
  }): Promise<SubmitOutcome[]>;
  /**
   * Emits an event: starts a run of every workflow whose `on` lists `event`, with `payload` (a JSON value) as input,
   * in one write. The same `id` again starts nothing new and returns the same runs; without `id` a fresh one is made
   * and returned. A name that is not valid or a payload that is not JSON is an InvalidArgumentError, writing nothing.
   */
  emit(event: string, payload?: unknown, options?: EmitOptions): Promise<EmitResult>;
  /** Every registered schedule with its last and next tick. */
  schedules(): Promise<ScheduleInfo[]>;
  /** The run, decoded; `null` when there is none with this id. */
  get(runId: string): Promise<ClientRun | null>;
  /** Waits until the run ends (completed, failed or cancelled) and returns it; its current view if `signal` aborts. */
  wait(run: string | { runId: string }, options?: WaitOptions): Promise<ClientRun>;
  /** Cancels a run (its running steps are aborted at their next heartbeat) and returns it; an ended run is left as it is. */
  cancel(runId: string, reason?: string): Promise<ClientRun>;
  /** A new run that keeps the parent's results outside `from` and the steps depending on it, and runs those again. */
  rerun(runId: string, options: { from: string; input?: unknown }): Promise<{ runId: string; rerunStepIds: string[] }>;
  /** Runs again the failed and skipped steps of a failed run, keeping its completed results. */
  retry(
    runId: string,
    options?: { reason?: string },
  ): Promise<{ workflowAttemptNumber: number; retriedSteps: string[] }>;
  /** Runs, newest first, filtered by workflow, status and tags. */
  list(options?: ListOptions): Promise<ClientRun[]>;
  /** Pauses a run (nothing new is claimed; running steps finish) and returns it; a typed error for an ended run. */
  pause(runId: string, options?: { reason?: string }): Promise<ClientRun>;
  /** Resumes a paused run, merging `patch` into the state its steps read as `ctx.state`, and returns it. */
  resume(runId: string, options?: { patch?: Record<string, unknown> }): Promise<ClientRun>;
  /** Pauses (`resume: false`, default) or resumes a whole workflow; returns how many runs it changed. */
  pauseWorkflow(
    workflow: string | WorkflowRef,
    options?: { reason?: string; resume?: boolean },
  ): Promise<{ runs: number }>;
  /**
   * Sends a signal to a run: buffered until a step's `ctx.waitForEvent(name)` takes it (a step waiting now is woken).
   * The same `id` twice is one signal. A payload that is not JSON, or an unknown or ended run, is a typed error.
   */
  signal(
    runId: string,
    name: string,
    payload?: unknown,
    options?: { id?: string },
  ): Promise<{ signalId: string; isNew: boolean }>;
  /** The calls a run's steps made (`ctx.call`), of one step when given, in the order they were recorded; RUN_NOT_FOUND for an unknown run. */
  calls(runId: string, stepId?: string): Promise<CallRecord[]>;
  /**
   * The child steps (`ctx.step`) of a run's steps, of one step when given, every attempt's, in the order they ended
   * (each names its step, path, parent and attempt); RUN_NOT_FOUND for an unknown run.
   */
  children(runId: string, stepId?: string): Promise<ChildStepRecord[]>;
  /** The entities a run's step touched (`ctx.link`), in link order; RUN_NOT_FOUND for an unknown run. */
  links(runId: string, stepId: string): Promise<StepLink[]>;
  /** Which runs and steps touched an entity (`"transaction:tx_123"` or `{ entityType, entityId }`), newest link first. */
  touching(
    entity: string | { entityType: string; entityId: string },
    options?: { limit?: number },
  ): Promise<StepLink[]>;
  /** A run's steps (status, attempt, error, latest `progress` with its item counts, …); RUN_NOT_FOUND for an unknown run. */
  steps(runId: string): Promise<StepState[]>;
  /** A run's AI usage per model and in total; RUN_NOT_FOUND for an unknown run. */
  usage(runId: string): Promise<RunUsage>;
  /** The open Backend (opened on first use), for what the client does not wrap. */
  backend(): Promise<Backend>;
  /** One page of the event feed (every run's events in commit order) after `options.after`; see docs/event-feed.md. */
  readFeed(options?: ReadFeedOptions): Promise<FeedPage>;
  /** Follows the event feed from `options.from`, page by page, at least once; the consumer saves the cursor it is handed. */
  subscribeFeed(options: SubscribeFeedOptions): Promise<FeedSubscription>;
  /** Closes the backend the client opened from a URL; a Backend given to createClient is left open. */
  close(): Promise<void>;
}

/** Options of `wait`. */
export interface WaitOptions {
  /** Stops waiting (e.g. `AbortSignal.timeout(30_000)`); `wait` then returns the run as it is. */
  signal?: AbortSignal;
  /** Called with each new view of the run while waiting. */
  onUpdate?: (run: ClientRun) => void;
}

/** Options of `list`. */
export type ListOptions = Omit<ListRunsOptions, "workflowSlug"> & { workflow?: string | WorkflowRef };

/** The run with its input and output decoded. */
export function decodeRun(run: RunState): ClientRun {
  return { ...run, input: deserializeValue(run.input), output: deserializeValue(run.output) };
}

/**
 * A client over the backend a URL names (opened lazily, on first use) or over a Backend the caller opened.
 * `client.submit(helloWorkflow, { name: "Ada" })` checks the input against the declaration's schema type.
 */
export function createClient(options: ClientOptions): CairnClient {
  if (options.tenant !== undefined) assertTenantId(options.tenant, "tenant");
  const given = typeof options.backend === "string" ? undefined : options.backend;
  let opening: Promise<Backend> | undefined = given ? Promise.resolve(given) : undefined;
  const open = (): Promise<Backend> => {
    if (opening) return opening;
    const p = openBackend(options.backend as string, options.cwd ? { cwd: options.cwd } : {});
    // A backend that failed to open (server down) is tried again on the next call.
    p.catch(() => {
      if (opening === p) opening = undefined;
    });
    return (opening = p);
  };
  // Every run-level call goes through `scope`: the Backend, or the tenant's view of it.
  let views: { backend: Backend; view: TenantView } | undefined;
  const scoped = async (): Promise<{ backend: Backend; scope: Backend | TenantView }> => {
    const backend = await open();
    if (options.tenant === undefined) return { backend, scope: backend };
    if (views?.backend !== backend) views = { backend, view: backend.forTenant(options.tenant) };
    return { backend, scope: views.view };
  };
  const unscoped = (what: string): void => {
    if (options.tenant !== undefined)
      throw new InvalidArgumentError(
        `${what} spans every tenant, and this client is scoped to tenant ${JSON.stringify(options.tenant)}; use a client without \`tenant\` (or client.backend()) for it.`,
      );
  };
  const submitOptions = (slug: string, input: unknown, o: RunSubmitOptions = {}): SubmitOptions => {
    const { availableAt, ...rest } = o;
    return {
      ...rest,
      workflow: slug,
      ...(input === undefined ? {} : { input }),
      ...(availableAt ? { availableAtUs: availableAt.getTime() * 1000 } : {}),
    };
  };

  return {
    async submit(workflow, ...[input, o]) {
      const { backend, scope } = await scoped();
      return submit(backend, submitOptions(await resolveWorkflowSlug(backend, workflow), input, o), scope);
    },
    async submitMany(items) {
      const { backend, scope } = await scoped();
      // One lookup per distinct workflow, not per item.
      const lookups = new Map<string | WorkflowRef, Promise<unknown>>();
      const slugOf = (w: string | WorkflowRef): Promise<unknown> => {
        if (!lookups.has(w))
          lookups.set(
            w,
            resolveWorkflowSlug(backend, w).catch((e: unknown) => e),
          );
        return lookups.get(w)!;
      };
      const slugs = await Promise.all(items.map((i) => slugOf(i.workflow)));
      const bad = new Map<number, SubmitOutcome>();
      const good: Array<{ index: number; o: SubmitOptions }> = [];
      slugs.forEach((slug, index) => {
        if (typeof slug === "string") good.push({ index, o: submitOptions(slug, items[index]!.input, items[index]) });
        else if (slug instanceof CairnError) bad.set(index, { ok: false, error: slug });
        else throw slug;
      });
      const outcomes = await submitMany(
        backend,
        good.map((g) => g.o),
        scope,
      );
      const out = items.map((_, index) => bad.get(index));
      good.forEach((g, k) => (out[g.index] = outcomes[k]));
      return out as SubmitOutcome[];
    },
    async emit(event, payload, o = {}) {
      unscoped("emit");
      return (await open()).emit(event, payload, o);
    },
    async schedules() {
      return (await open()).listSchedules();
    },
    async get(runId) {
      const run = await (await scoped()).scope.getRun(runId);
      return run ? decodeRun(run) : null;
    },
    async wait(run, o = {}) {
      const runId = typeof run === "string" ? run : run.runId;
      const onUpdate = o.onUpdate;
      const { backend, scope } = await scoped();
      const d = await waitForRun(backend, runId, {
        scope,
        pollMs: options.pollMs ?? 250,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(onUpdate ? { onUpdate: (v: { run: RunState }) => onUpdate(decodeRun(v.run)) } : {}),
      });
      return decodeRun(d.run);
    },
    async cancel(runId, reason) {
      const { scope } = await scoped();
      await scope.cancelRun(runId, reason);
      return decodeRun((await describeRun(scope, runId)).run);
    },
    async rerun(runId, o) {
      const input = o.input === undefined ? {} : { input: o.input };
      return (await scoped()).scope.rerunFrom({ parentRunId: runId, fromStepId: o.from, ...input });
    },
    async retry(runId, o = {}) {
      return (await scoped()).scope.retryRun(runId, o);
    },
    async list(o = {}) {
      const { backend, scope } = await scoped();
      const { workflow, ...rest } = o;
      const filter =
        workflow === undefined ? rest : { ...rest, workflowSlug: await resolveWorkflowSlug(backend, workflow) };
      return (await scope.listRuns(filter)).map(decodeRun);
    },
    async readFeed(o = {}) {
      unscoped("readFeed");
      return (await open()).readFeed(o);
    },
    async subscribeFeed(o) {
      unscoped("subscribeFeed");
      return (await open()).subscribeFeed(o);
    },
    async pause(runId, o = {}) {
      const { scope } = await scoped();
      await scope.pauseRun(runId, o);
      return decodeRun((await describeRun(scope, runId)).run);
    },
    async resume(runId, o = {}) {
      const { scope } = await scoped();
      await scope.resumeRun(runId, o);
      return decodeRun((await describeRun(scope, runId)).run);
    },
    async pauseWorkflow(workflow, o = {}) {
      unscoped("pauseWorkflow");
      const backend = await open();
      const slug = await resolveWorkflowSlug(backend, workflow);
      return o.resume
        ? backend.resumeWorkflow(slug)
        : backend.pauseWorkflow(slug, o.reason === undefined ? {} : { reason: o.reason });
    },
    async signal(runId, name, payload, o = {}) {
      return (await scoped()).scope.signal(runId, name, payload, o);
    },
    async calls(runId, stepId) {
      const { scope } = await scoped();
      const run = await scope.getRun(runId);
      if (!run) throw new RunNotFoundError(runId);
      return scope.loadStepCalls(run.workflowSlug, runId, stepId);
    },
    async children(runId, stepId) {
      const { scope } = await scoped();
      const run = await scope.getRun(runId);
      if (!run) throw new RunNotFoundError(runId);
      return scope.loadStepChildren(run.workflowSlug, runId, stepId);
    },
    async links(runId, stepId) {
      const { scope } = await scoped();
      const run = await scope.getRun(runId);
      if (!run) throw new RunNotFoundError(runId);
      return scope.getStepLinks(run.workflowSlug, runId, stepId);
    },
    async touching(entity, o = {}) {
      const ref = typeof entity === "string" ? parseEntityRef(entity) : entity;
      const { backend, scope } = await scoped();
      const links = await backend.findEntityLinks({ ...ref, ...(o.limit !== undefined ? { limit: o.limit } : {}) });
      if (scope === backend) return links;
      // Scoped: only the links of the tenant's runs (so a page may hold fewer than `limit`).
      const owned = new Map<string, boolean>();
      for (const l of links) if (!owned.has(l.runId)) owned.set(l.runId, (await scope.getRun(l.runId)) !== null);
      return links.filter((l) => owned.get(l.runId));
    },
    async steps(runId) {
      return (await describeRun((await scoped()).scope, runId)).steps;
    },
    async usage(runId) {
      return (await scoped()).scope.getRunUsage(runId);
    },
    backend: open,
    async close() {
      if (given || !opening) return;
      const backend = await opening.catch(() => undefined);
      opening = undefined;
      await backend?.close();
    },
  };
}
