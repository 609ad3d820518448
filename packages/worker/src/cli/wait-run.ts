import { deserializeValue, isTerminalRunStatus, type Backend } from "@cairn/backend-interface";
import type { WorkerHandle } from "../worker.js";
import { intFlag, printJson, type CliContext } from "./command.js";
import { ExitCode } from "./exit-codes.js";
import { duration, prettyJson } from "./format.js";
import { onInterrupt } from "./interrupt.js";
import { ProgressView } from "./progress-view.js";
import { loadRunView } from "./run-command.js";
import type { RunView } from "./run-view.js";
import { watchLoop } from "./watch-loop.js";

/** How `--wait` follows a run. */
export interface WaitOptions {
  json: boolean;
  pollMs: string;
  /** False when the run existed already (an idempotent submit). */
  isNew?: boolean;
  /** The worker this command runs (`submit --wait --workflows`): stopped when the wait ends. */
  local?: WorkerHandle;
}

/**
 * Shows a run's steps live (progress included) on stderr until it ends, then reports it: its output on stdout (exit 0),
 * or why it failed (10) or was cancelled (11). Ctrl-C stops the wait (exit 130) and says what becomes of the run: it
 * goes on under other workers, or, when this command's worker was the only one, it waits for a worker.
 */
export async function waitAndReport(
  backend: Backend,
  runId: string,
  cx: CliContext,
  o: WaitOptions,
): Promise<ExitCode> {
  const pollMs = intFlag("poll-ms", o.pollMs, 10)!;
  const first = await loadRunView(backend, runId);
  const order = (await backend.getWorkflowSteps(first.run.workflowSlug)).map((s) => s.id);
  const view = o.json
    ? undefined
    : new ProgressView(cx.io.stderr, cx.io.isTTY, cx.err, order, process.stderr.columns || 100);
  const stop = new AbortController();
  const release = onInterrupt(() => stop.abort());
  const since = Date.now();
  let hinted = false;
  let last: RunView = first;
  try {
    await watchLoop(backend, { pollMs, signal: stop.signal }, async () => {
      last = await loadRunView(backend, runId);
      view?.update(last, backend.clock.nowUs());
      if (
        !o.json &&
        !hinted &&
        last.run.status === "pending" &&
        Date.now() - since > 5000 &&
        (last.run.availableAtUs ?? 0) <= backend.clock.nowUs()
      ) {
        hinted = true;
        cx.io.stderr(
          `The run is still pending: is a worker running for ${last.run.workflowSlug}? Start one with \`cairn worker --workflows <dir>\`, or pass --workflows to \`cairn submit\`.\n`,
        );
      }
      return isTerminalRunStatus(last.run.status);
    });
  } finally {
    release();
    await o.local?.stop({ urgent: true });
  }
  if (!isTerminalRunStatus(last.run.status)) return interrupted(backend, last, cx, o);
  return report(last, cx, o);
}

function report(v: RunView, cx: CliContext, o: WaitOptions): ExitCode {
  const { run } = v;
  const code =
    run.status === "completed" ? ExitCode.ok : run.status === "failed" ? ExitCode.runFailed : ExitCode.runCancelled;
  if (o.json) {
    printJson(cx.io, {
      runId: run.runId,
      ...(o.isNew === undefined ? {} : { isNew: o.isNew }),
      workflow: run.workflowSlug,
      status: run.status,
      durationUs: run.durationUs,
      output: deserializeValue(run.output),
      error: run.error,
      failedStep: run.failedStep,
      cancelReason: run.cancelReason,
      validationErrors: run.inputValidation?.validationErrors,
    });
    return code;
  }
  const s = cx.err;
  if (run.status === "completed") {
    cx.io.stderr(`Run ${run.runId} ${s.green("completed")} in ${duration(run.durationUs)}. Output:\n`);
    cx.io.stdout(`${prettyJson(run.output)}\n`);
  } else if (run.status === "failed") {
    const fields = run.inputValidation?.validationErrors?.map((e) => `  ${e.path}: ${e.message}`).join("\n");
    const where = run.failedStep ? ` at step ${run.failedStep}` : "";
    cx.io.stderr(
      `Run ${run.runId} ${s.red("failed")}${where}: ${run.error?.message ?? "unknown error"}\n${fields ? `${fields}\n` : ""}`,
    );
    cx.io.stderr(`See \`cairn run ${run.runId}\` (each attempt and its stack) and \`cairn logs ${run.runId}\`.\n`);
  } else {
    cx.io.stderr(`Run ${run.runId} was ${s.red("cancelled")}${run.cancelReason ? `: ${run.cancelReason}` : ""}.\n`);
  }
  return code;
}

/** Ctrl-C before the run ended: say whether it goes on (other workers run it) or waits for a worker. */
async function interrupted(backend: Backend, v: RunView, cx: CliContext, o: WaitOptions): Promise<ExitCode> {
  const { run } = v;
  const others = o.local ? await otherWorkers(backend, run.workflowSlug, o.local.workerId) : undefined;
  const orphaned = others === 0;
  if (o.json) {
    printJson(cx.io, {
      runId: run.runId,
      workflow: run.workflowSlug,
      status: run.status,
      interrupted: true,
      worker: orphaned ? "none" : o.local ? "other workers" : "unknown",
    });
  } else if (orphaned) {
    cx.io.stderr(
      `Stopped waiting. Run ${run.runId} is left ${run.status} with no worker: this command was running the only worker for ` +
        `${run.workflowSlug}, and its running steps were released. It resumes when a worker starts: ` +
        `\`cairn worker --workflows <dir>\`; follow it with \`cairn run ${run.runId} --watch\`.\n`,
    );
  } else {
    const who = o.local ? `; ${others} other worker${others === 1 ? "" : "s"} run ${run.workflowSlug}` : "";
    cx.io.stderr(
      `Stopped waiting. Run ${run.runId} goes on (${run.status})${who}. Follow it with \`cairn run ${run.runId} --watch\`, or stop it with \`cairn cancel ${run.runId}\`.\n`,
    );
  }
  return ExitCode.interrupted;
}

/** Live workers other than `self` that run `workflowSlug` (or say nothing of which workflows they run). */
async function otherWorkers(backend: Backend, workflowSlug: string, self: string): Promise<number> {
  const workers = await backend.getActiveWorkers().catch(() => []);
  return workers.filter(
    (w) =>
      w.isActive &&
      w.workerId !== self &&
      (!("workflows" in w) || !w.workflows || (w.workflows as string[]).includes(workflowSlug)),
  ).length;
}
