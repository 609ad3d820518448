import { randomBytes } from "node:crypto";
import { InvalidArgumentError, WorkflowNotFoundError, type Backend } from "@cairn/backend-interface";
import { MemoryBackend } from "@cairn/backend-memory";
import {
  discoverWorkflows,
  formatProblems,
  registerWorkflows,
  startWorker,
  submit,
  type AnyWorkflow,
  type LoadedWorkflow,
  type WorkerEvent,
  type WorkerHandle,
  type WorkerOptions,
} from "@cairn/worker";
import { durationMs, type Duration } from "./duration.js";
import { driveRun } from "./drive-run.js";
import { StepFaults, type StepFault } from "./step-faults.js";
import { TestClock } from "./test-clock.js";
import { toTestRun, type TestRun } from "./test-run.js";
import { TestEnvClosedError } from "./testing-errors.js";

/** What createTestEnv accepts. */
export interface TestEnvOptions {
  /** Loaded workflows (discoverWorkflows / loadWorkflow), or `workflowsDir` to discover a folder. */
  workflows?: LoadedWorkflow[];
  workflowsDir?: string;
  /** The clock's start (default 2026-01-01T00:00:00Z). */
  startAt?: Date;
  /**
   * Worker options passed through (concurrency, services, env, heartbeatMs, ...). Default staleMs: 1 h, so moving the
   * clock never reclaims a live step.
   */
  worker?: Omit<
    WorkerOptions,
    "backend" | "workflows" | "workflowsDir" | "timers" | "signal" | "handleSignals" | "once"
  >;
  /** Real ms a running step may go without a new event before `run` moves the clock to its timeout (default 200). */
  stallMs?: number;
}

/** What `run` and `submit` accept besides the input. */
export interface TestSubmitOptions {
  /** Start the run this long from now on the environment's clock (a delayed run). */
  delay?: Duration;
  /** Fail the run if it has not ended this long after it started. */
  timeout?: Duration;
  idempotencyKey?: string;
  priority?: number;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/** A workflow as `run` takes it: its slug or its `defineWorkflow` declaration. */
export type WorkflowRef = string | AnyWorkflow;

/** A test environment: a memory backend, a real worker on it and the clock both run on. */
export interface TestEnv {
  /** A backend on the environment's store (survives crashWorker). */
  backend: Backend;
  clock: TestClock;
  /** The worker running now (a new one after crashWorker). */
  readonly worker: WorkerHandle;
  workflows: LoadedWorkflow[];
  /** Every worker event so far, of every worker. */
  events: WorkerEvent[];
  /** Submits a run and drives it to its end (moving the clock over waits); returns it with its steps' attempts. */
  run(workflow: WorkflowRef, input?: unknown, options?: TestSubmitOptions): Promise<TestRun>;
  /** Submits a run without waiting; returns its id. */
  submit(workflow: WorkflowRef, input?: unknown, options?: TestSubmitOptions): Promise<string>;
  /** Drives a submitted run to its end, as `run` does. */
  wait(runId: string): Promise<TestRun>;
  /** The run as it stands, with every step's attempts. */
  inspect(runId: string): Promise<TestRun>;
  /** Makes the next attempts of a step fail (or crash their worker) instead of running. */
  failStep(workflow: WorkflowRef, stepId: string, fault?: StepFault): void;
  /** Kills the worker as a crash would (its writes stop, its steps are left running) and starts a new one. */
  crashWorker(): Promise<void>;
  /** Stops the worker and closes the store. */
  close(): Promise<void>;
}

/**
 * Creates a test environment: an in-memory store, a real worker (in-process, jitter off) whose polls, heartbeats,
 * maintenance and step timeouts run on a TestClock the backend also reads, so `env.clock.advance("10m")` and the
 * gaps `run` skips cost no real time.
 */
export async function createTestEnv(options: TestEnvOptions): Promise<TestEnv> {
  let loaded = options.workflows;
  if (!loaded) {
    if (!options.workflowsDir)
      throw new InvalidArgumentError(
        "createTestEnv needs `workflows` (loaded workflows) or `workflowsDir` (a folder to discover).",
      );
    const found = await discoverWorkflows(options.workflowsDir);
    if (found.problems.length)
      throw new InvalidArgumentError(
        `some workflows under ${options.workflowsDir} did not load:\n${formatProblems(found.problems)}`,
      );
    loaded = found.workflows;
  }
  const workflows = loaded;
  const clock = new TestClock(options.startAt ? options.startAt.getTime() * 1000 : undefined);
  const store = `cairn-test-${randomBytes(6).toString("hex")}`;
  const open = async (): Promise<Backend> => {
    const b = new MemoryBackend({ name: store, clock });
    await b.initialize();
    return b;
  };
  const backend = await open();
  await registerWorkflows(backend, workflows);
  const faults = new StepFaults();
  const events: WorkerEvent[] = [];
  const workerOptions = { staleMs: 3_600_000, abortGraceMs: 200, random: () => 1, ...options.worker };
  const staleMs = workerOptions.staleMs;
  let closed = false;
  let current: { backend: Backend; worker: WorkerHandle };
  let crashing: Promise<void> | undefined;

  const start = async (): Promise<{ backend: Backend; worker: WorkerHandle }> => {
    const own = await open(); // the worker's own connection: closing it is the crash
    const worker = await startWorker({
      ...workerOptions,
      backend: own,
      workflows: faults.wrap(workflows, () => void crashWorker()),
      timers: clock,
      register: false,
      onEvent: (e) => {
        events.push(e);
        workerOptions.onEvent?.(e);
      },
    });
    return { backend: own, worker };
  };
  const crashWorker = (): Promise<void> => {
    crashing ??= (async () => {
      const dead = current;
      await dead.backend.close(); // from here on nothing the dead worker does reaches the store
      current = await start();
      await dead.worker.stop({ urgent: true });
    })().finally(() => {
      crashing = undefined;
    });
    return crashing;
  };
  current = await start();

  const slugOf = (w: WorkflowRef): string => {
    if (typeof w === "string") {
      if (workflows.some((l) => l.slug === w)) return w;
    } else {
      const hit = workflows.find((l) => l.declaration === w) ?? workflows.find((l) => l.name === w.name);
      if (hit) return hit.slug;
    }
    throw new WorkflowNotFoundError(typeof w === "string" ? w : w.name);
  };
  const live = (): void => {
    if (closed) throw new TestEnvClosedError();
  };
  const inspect = async (runId: string): Promise<TestRun> => {
    live();
    const state = await backend.getRun(runId);
    if (!state) throw new InvalidArgumentError(`no run ${runId} in this test environment.`);
    return toTestRun(
      state,
      await backend.loadRun(state.workflowSlug, runId),
      await backend.loadEvents(state.workflowSlug, runId),
    );
  };
  const wait = async (runId: string): Promise<TestRun> => {
    live();
    await driveRun({
      backend,
      clock,
      runId,
      staleMs,
      stallMs: options.stallMs ?? 200,
      liveWorkerId: () => current.worker.workerId,
      stepTimeoutMs: (slug, stepId) =>
        workflows.find((w) => w.slug === slug)?.stepsById.get(stepId)?.definition.timeoutMs,
    });
    await crashing;
    // The hooks of the write that ended the run run after it: let them finish (bounded: another run may hang).
    await Promise.race([current.worker.idle(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    return inspect(runId);
  };
  const submitRun = async (w: WorkflowRef, input?: unknown, o: TestSubmitOptions = {}): Promise<string> => {
    live();
    const { runId } = await submit(backend, {
      workflow: slugOf(w),
      ...(input === undefined ? {} : { input }),
      ...(o.delay === undefined ? {} : { availableAtUs: clock.nowUs() + Math.round(durationMs(o.delay) * 1000) }),
      ...(o.timeout === undefined ? {} : { timeoutMs: durationMs(o.timeout) }),
      ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
      ...(o.priority === undefined ? {} : { priority: o.priority }),
      ...(o.tags ? { tags: o.tags } : {}),
      ...(o.metadata ? { metadata: o.metadata } : {}),
    });
    return runId;
  };

  return {
    backend,
    clock,
    workflows,
    events,
    get worker() {
      return current.worker;
    },
    submit: submitRun,
    run: async (w, input, o) => wait(await submitRun(w, input, o)),
    wait,
    inspect,
    failStep: (w, stepId, fault = {}) => {
      const slug = slugOf(w);
      if (!workflows.find((l) => l.slug === slug)?.stepsById.has(stepId))
        throw new InvalidArgumentError(`workflow ${slug} has no step "${stepId}".`);
      faults.add(slug, stepId, fault);
    },
    crashWorker: async () => {
      live();
      await crashWorker();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await crashing;
      await current.worker.stop({ urgent: true });
      await current.backend.close();
      await backend.close();
    },
  };
}
