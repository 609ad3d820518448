import type { SavedCheckpoint, SavedChildStep, StepWait } from "@cairn/backend-interface";
import { isWaitRequest } from "./step-waits.js";
import type { AnyStep } from "./define-step.js";
import { isSkip } from "./skip.js";
import { errorData, makeStepContext, type StepIO } from "./step-context.js";

/** Everything needed to run one attempt of a step, in this process or another. */
export interface StepJob {
  workflowSlug: string;
  runId: string;
  stepId: string;
  attempt: number;
  /** Absolute path of the step file (a child process imports it). */
  file: string;
  input: unknown;
  deps: Record<string, unknown>;
  checkpoints: SavedCheckpoint[];
  /** Child steps (`ctx.step`) finished by earlier attempts, replayed by name. */
  children?: SavedChildStep[];
  /** `ctx.state`: the run's state (resume patches merged); absent: {}. */
  state?: Record<string, unknown>;
  /** The signals the store gave this step (serialised payloads), for `ctx.waitForEvent`. */
  signals?: Array<{ name: string; payload: string }>;
  /** `ctx.env`: the worker's variables with the workflow's over them. */
  env?: Record<string, string>;
}

/** How an attempt ended, as the runner saw it. */
export type StepOutcome =
  | { kind: "completed"; output: unknown; resourceUsage?: ResourceUsage }
  | { kind: "skipped"; reason: string; metadata?: Record<string, unknown> }
  | {
      kind: "failed";
      error: { name?: string; message: string; stack?: string };
      crashed?: boolean;
      resourceUsage?: ResourceUsage;
      invalidInput?: Array<{ path: string; message: string }>;
    }
  /** The step gave back its slot to wait (ctx.sleep, ctx.waitForEvent, ctx.poll). */
  | { kind: "waiting"; wait: StepWait }
  /** The attempt was aborted and did not settle within the grace period. */
  | { kind: "abandoned" };

/** Resource usage of one attempt. */
export interface ResourceUsage {
  memoryBytes?: number;
  cpuUserUs?: number;
  cpuSystemUs?: number;
  cpuTimeUs?: number;
}

/** Runs one attempt. `declaration` is the step as loaded by this process (a child runner loads its own). */
export type StepRunner = (job: StepJob, declaration: AnyStep, io: StepIO, signal: AbortSignal) => Promise<StepOutcome>;

/** The default runner: calls the step function in this process. A step that never settles is abandoned after its abort grace. */
export const runInProcess: StepRunner = async (job, declaration, io, signal) => {
  const ctx = makeStepContext({ ...job, signal, io });
  const cpu0 = process.cpuUsage();
  try {
    const output = await declaration.run(ctx);
    return { kind: "completed", output, resourceUsage: usageSince(cpu0) };
  } catch (err) {
    if (isWaitRequest(err)) return { kind: "waiting", wait: err.wait };
    if (isSkip(err))
      return { kind: "skipped", reason: err.message, ...(err.metadata ? { metadata: err.metadata } : {}) };
    return { kind: "failed", error: errorData(err), resourceUsage: usageSince(cpu0) };
  }
};

/** How long an RSS reading is reused: reading it opens and parses /proc/self/stat (~2 % of a no-op drain's CPU). */
const RSS_REUSE_MS = 50;
let rss = { bytes: 0, atMs: Number.NEGATIVE_INFINITY };

/** The process's resident set size, read at most every RSS_REUSE_MS (in-process steps share the process anyway). */
function residentBytes(): number {
  const now = performance.now();
  if (now - rss.atMs >= RSS_REUSE_MS) rss = { bytes: process.memoryUsage.rss(), atMs: now };
  return rss.bytes;
}

/** CPU time since `start` (process-wide: in-process steps share the process) and the process's RSS. */
export function usageSince(start: NodeJS.CpuUsage): ResourceUsage {
  const d = process.cpuUsage(start);
  return { memoryBytes: residentBytes(), cpuUserUs: d.user, cpuSystemUs: d.system, cpuTimeUs: d.user + d.system };
}

/**
 * Waits for `run` to settle; once `signal` aborts, waits at most `graceMs` more and then gives up with `abandoned`
 * (an in-process function cannot be killed; a child runner kills its process itself).
 */
export async function settleWithin(
  run: Promise<StepOutcome>,
  signal: AbortSignal,
  graceMs: number,
): Promise<StepOutcome> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const abandoned = new Promise<StepOutcome>((resolve) => {
    onAbort = () => {
      timer = setTimeout(() => resolve({ kind: "abandoned" }), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([run, abandoned]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}
