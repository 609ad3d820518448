/**
 * Entry point of a step child process (see run-in-child.ts): receives one job over IPC, imports the step file, runs the
 * step with a context whose logs, progress, checkpoints and calls go back to the parent, reports the outcome, and exits.
 */
import { pathToFileURL } from "node:url";
import type { CallInput, ChildStepInput, LinkSpec, LogProgress } from "@cairn/backend-interface";
import { isStepDeclaration } from "./define-step.js";
import { errorData, type StepIO } from "./step-context.js";
import { runInProcess, type StepJob, type StepOutcome } from "./step-runner.js";

/** Parent → child. */
export type ParentMessage =
  | { t: "start"; job: StepJob }
  | { t: "abort"; reason: string }
  | { t: "ack"; id: number; error?: { name?: string; message: string } };
/** Child → parent. */
export type ChildMessage =
  | { t: "log"; stream: "stdout" | "stderr"; message: string; progress?: LogProgress }
  | { t: "progress"; fraction: number; message?: string }
  | { t: "checkpoint"; id: number; name: string; sequenceNumber: number; data: unknown }
  | {
      t: "checkpoint-failed";
      name: string;
      sequenceNumber: number;
      error: { name?: string; message: string; stack?: string };
    }
  | { t: "call"; call: Omit<CallInput, "attemptNumber"> }
  | { t: "increment"; counters: Record<string, number>; childId?: string }
  | { t: "link"; link: LinkSpec; childId?: string }
  | { t: "child"; id: number; child: Omit<ChildStepInput, "attemptNumber"> }
  | { t: "result"; outcome: StepOutcome };

const controller = new AbortController();
const pendingAcks = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
let nextId = 1;
const send = (m: ChildMessage): Promise<void> =>
  new Promise((resolve) => process.send!(m, undefined, {}, () => resolve()));

/** Sends a message the parent acknowledges once it stored what it carries; rejects with the parent's error. */
function acked(message: (id: number) => ChildMessage): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const id = nextId++;
    pendingAcks.set(id, { resolve, reject });
    void send(message(id));
  });
}

const io: StepIO = {
  log: (stream, message, progress) => void send({ t: "log", stream, message, ...(progress ? { progress } : {}) }),
  progress: (fraction, message) => void send({ t: "progress", fraction, ...(message ? { message } : {}) }),
  saveCheckpoint: (name, sequenceNumber, data) => acked((id) => ({ t: "checkpoint", id, name, sequenceNumber, data })),
  saveCheckpointFailed: (name, sequenceNumber, error) => send({ t: "checkpoint-failed", name, sequenceNumber, error }),
  call: (call) => void send({ t: "call", call }),
  increment: (counters, childId) =>
    void send({ t: "increment", counters, ...(childId !== undefined ? { childId } : {}) }),
  link: (link, childId) => void send({ t: "link", link, ...(childId !== undefined ? { childId } : {}) }),
  // A child step's record is saved before ctx.step returns (the parent acks once it is stored), as a checkpoint is.
  child: (child) => acked((id) => ({ t: "child", id, child })),
};

async function run(job: StepJob): Promise<void> {
  let outcome: StepOutcome;
  try {
    const mod = (await import(pathToFileURL(job.file).href)) as { default?: unknown };
    if (!isStepDeclaration(mod.default)) throw new Error(`${job.file} no longer exports a defineStep declaration`);
    outcome = await runInProcess(job, mod.default, io, controller.signal);
    if (outcome.kind !== "skipped") {
      const r = process.resourceUsage();
      const usage = {
        memoryBytes: r.maxRSS * 1024,
        cpuUserUs: r.userCPUTime,
        cpuSystemUs: r.systemCPUTime,
        cpuTimeUs: r.userCPUTime + r.systemCPUTime,
      };
      outcome = { ...outcome, resourceUsage: usage } as StepOutcome;
    }
  } catch (err) {
    outcome = { kind: "failed", error: errorData(err) };
  }
  try {
    await send({ t: "result", outcome });
  } catch {
    // An output IPC cannot carry (functions, symbols) is reported as a failure instead.
    await send({
      t: "result",
      outcome: {
        kind: "failed",
        error: { name: "DataCloneError", message: "the step output cannot be sent from the step process" },
      },
    });
  }
  process.disconnect?.();
  process.exitCode = 0;
}

process.on("message", (raw) => {
  const m = raw as ParentMessage;
  if (m.t === "start") void run(m.job);
  else if (m.t === "abort") controller.abort(new Error(m.reason));
  else if (m.t === "ack") {
    const p = pendingAcks.get(m.id);
    pendingAcks.delete(m.id);
    if (p)
      m.error ? p.reject(Object.assign(new Error(m.error.message), { name: m.error.name ?? "Error" })) : p.resolve();
  }
});
