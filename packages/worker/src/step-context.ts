import { format } from "node:util";
import {
  childPath,
  deserializeValue,
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
  type LinkSpec,
  type CallInput,
  type ChildStepInput,
  type LogProgress,
  type SavedCheckpoint,
  type SavedChildStep,
} from "@cairn/backend-interface";
import type { CallOptions, Progress, StepContext } from "./define-step.js";
import { NO_SERVICES, type Services } from "./worker-services.js";
import { isWaitRequest, makeWaits } from "./step-waits.js";
import { isSkip } from "./skip.js";

/** Where a step context sends what the step reports. In-process it writes to the backend; in a child process it goes over IPC. */
export interface StepIO {
  /** Stores one log line; `progress` is set on the line a progress report writes. */
  log(stream: "stdout" | "stderr", message: string, progress?: LogProgress): void;
  /** A progress report, sent after its log line (the worker saves reported progress soon, not only at heartbeats). */
  progress(fraction: number, message?: string): void;
  saveCheckpoint(name: string, sequenceNumber: number, data: unknown): Promise<void>;
  saveCheckpointFailed(
    name: string,
    sequenceNumber: number,
    error: { name?: string; message: string; stack?: string },
  ): Promise<void>;
  /** Records a call that ended (validated; the attempt is the step's); stored with the next save of the attempt's log lines, at the latest before its outcome. */
  call(call: Omit<CallInput, "attemptNumber">): void;
  /** Records a validated entity link of the attempt (made by the child step `childId`, when given); saved like calls. */
  link(link: LinkSpec, childId?: string): void;
  /** Adds validated counters to the run on behalf of the attempt (of its child step `childId`, when given); saved like calls. */
  increment(counters: Record<string, number>, childId?: string): void;
  /** Records a child step that ended (`ctx.step`); resolves once it is stored, so a retry can replay an `ok` one. */
  child(child: Omit<ChildStepInput, "attemptNumber">): Promise<void>;
  /** The current time in µs (in-process: the backend's clock; default the system clock). */
  nowUs?(): number;
  /** The services of the step's workflow (in-process only; a step process has none). */
  services?: Services;
}

/** What a step context is built from. */
export interface StepContextInit {
  workflowSlug: string;
  runId: string;
  stepId: string;
  attempt: number;
  input: unknown;
  deps: Record<string, unknown>;
  signal: AbortSignal;
  checkpoints: readonly SavedCheckpoint[];
  /** Child steps finished by earlier attempts: `ctx.step` returns their results instead of running them. */
  children?: readonly SavedChildStep[];
  io: StepIO;
  state?: Record<string, unknown>;
  signals?: ReadonlyArray<{ name: string; payload: string }>;
  env?: Record<string, string>;
}

/** Builds the context a step function receives. Checkpoints saved by earlier attempts are replayed by name. */
export function makeStepContext(init: StepContextInit): StepContext<unknown, Record<string, unknown>> {
  const saved = new Map(init.checkpoints.map((c) => [c.name, c]));
  let sequence = init.checkpoints.reduce((m, c) => Math.max(m, c.sequenceNumber + 1), 0);
  /** Saves a checkpoint under `name` (the waits' records) and makes it replayable in this attempt too. */
  const remember = async (name: string, value: unknown): Promise<void> => {
    const seq = sequence++;
    await init.io.saveCheckpoint(name, seq, value);
    saved.set(name, {
      name,
      sequenceNumber: seq,
      attemptNumber: init.attempt,
      data: JSON.stringify(value ?? null),
      timestampUs: 0,
    });
  };
  const waits = makeWaits({
    recall: (name) => {
      const hit = saved.get(name);
      return hit ? { found: true, value: deserializeValue(hit.data) } : { found: false };
    },
    remember,
    signals: init.signals ?? [],
    nowUs: () => init.io.nowUs?.() ?? Date.now() * 1000,
  });
  const line =
    (stream: "stdout" | "stderr", level: string) =>
    (...args: unknown[]) =>
      init.io.log(stream, `${level === "info" ? "" : `[${level}] `}${format(...args)}`);
  const now = (): number => Math.floor(init.io.nowUs ? init.io.nowUs() : Date.now() * 1000);
  const finished = new Map((init.children ?? []).map((c) => [c.childId, c]));
  /** The child paths this attempt used (run or replayed): a name twice under one parent is refused. */
  const used = new Set<string>();
  const base = {
    input: init.input,
    deps: init.deps,
    signal: init.signal,
    workflowSlug: init.workflowSlug,
    runId: init.runId,
    stepId: init.stepId,
    attempt: init.attempt,
    services: init.io.services ?? NO_SERVICES,
    env: Object.freeze({ ...init.env }),
    state: Object.freeze({ ...init.state }),
    sleep: waits.sleep,
    waitForEvent: waits.waitForEvent,
    poll: waits.poll,
    log: {
      info: line("stdout", "info"),
      debug: line("stdout", "debug"),
      warn: line("stderr", "warn"),
      error: line("stderr", "error"),
    },
    progress(progress: Progress, message?: string): void {
      const report = progressReport(progress, message);
      init.io.log("stdout", report.line, report.progress);
      init.io.progress(report.progress.fraction, message);
    },
  };
  /** The context of the step itself (`childId` undefined) or of one of its child steps. */
  const scoped = (childId: string | undefined): StepContext<unknown, Record<string, unknown>> => ({
    ...base,
    childId,
    async checkpoint<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
      // Inside a child the name is the child's own: two children may use the same checkpoint names.
      const key = childId === undefined ? name : `${childId}:${name}`;
      const hit = saved.get(key);
      if (hit) return deserializeValue(hit.data) as T;
      init.signal.throwIfAborted();
      const seq = sequence++;
      let value: T;
      try {
        value = await fn();
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        await init.io
          .saveCheckpointFailed(key, seq, { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) })
          .catch(() => {});
        throw err;
      }
      await init.io.saveCheckpoint(key, seq, value);
      return value;
    },
    async call<T>(options: CallOptions<T>, fn: () => T | Promise<T>): Promise<T> {
      const spec = validateCallSpec(options);
      const usageOf = options.usage;
      if (usageOf !== undefined && typeof usageOf !== "function") validateCallUsage(usageOf);
      const by = childId === undefined ? {} : { childId };
      const startedAtUs = now();
      const t0 = performance.now();
      let result: T;
      try {
        result = await fn();
      } catch (err) {
        init.io.call({ ...spec, startedAtUs, durationUs: since(t0), outcome: "error", error: errorData(err), ...by });
        throw err;
      }
      const durationUs = since(t0);
      const raw = typeof usageOf === "function" ? usageOf(result) : usageOf;
      const usage = raw === undefined ? undefined : validateCallUsage(raw);
      init.io.call({
        ...spec,
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
      init.io.link(validateLinkSpec(link), childId);
    },
    increment(counters: Record<string, number>): void {
      const values = validateIncrement(counters);
      if (Object.keys(values).length) init.io.increment(values, childId);
    },
    async step<T>(
      name: string,
      fn: (ctx: StepContext<unknown, Record<string, unknown>>) => T | Promise<T>,
    ): Promise<T> {
      const id = childPath(childId, validateChildStepName(name));
      validateChildPath(id);
      if (typeof fn !== "function")
        throw new InvalidArgumentError(
          `ctx.step(${JSON.stringify(name)}, fn) needs a function. Nothing was recorded.`,
          { field: "fn" },
        );
      if (used.has(id)) {
        throw new InvalidArgumentError(
          `Child step ${JSON.stringify(id)} already ran in this attempt of step ${init.stepId}; give each child of one parent its own name (e.g. \`page-\${n}\`). Nothing was recorded.`,
          { field: "name" },
        );
      }
      used.add(id);
      const done = finished.get(id);
      if (done) return deserializeValue(done.output) as T;
      init.signal.throwIfAborted();
      const startedAtUs = now();
      const t0 = performance.now();
      let value: T;
      try {
        value = await fn(scoped(id));
      } catch (err) {
        // A wait or a skip ends the attempt on purpose: the child is not failed, it runs again on the next attempt.
        if (!isWaitRequest(err) && !isSkip(err)) {
          await init.io
            .child({ childId: id, status: "error", startedAtUs, durationUs: since(t0), error: errorData(err) })
            .catch(() => {});
        }
        throw err;
      }
      await init.io.child({
        childId: id,
        status: "ok",
        startedAtUs,
        durationUs: since(t0),
        output: serializeValue(value),
      });
      return value;
    },
  });
  return scoped(undefined);
}

/** µs since `t0` (a performance.now() reading). */
function since(t0: number): number {
  return Math.max(0, Math.round((performance.now() - t0) * 1000));
}

/** An error as plain data (what events and IPC carry). */
export function errorData(err: unknown): { name?: string; message: string; stack?: string } {
  if (err instanceof Error) return { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
  if (typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string") {
    const o = err as { name?: unknown; message: string; stack?: unknown };
    return {
      message: o.message,
      ...(typeof o.name === "string" ? { name: o.name } : {}),
      ...(typeof o.stack === "string" ? { stack: o.stack } : {}),
    };
  }
  return { name: "Error", message: String(err) };
}
