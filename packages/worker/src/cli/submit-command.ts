import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { deserializeValue, type Backend } from "@cairn/backend-interface";
import { submit, waitForRun, type RunDetails } from "../client.js";
import { discoverWorkflows, formatProblems } from "../discovery.js";
import { registerWorkflows } from "../registration.js";
import { startWorker, type WorkerHandle } from "../worker.js";
import { durationMsFlag, intFlag, parse, printJson, withBackend, type CliIO, type Command } from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { duration, prettyJson } from "./format.js";
import { ProgressView } from "./progress-view.js";

const OPTIONS = {
  input: { type: "string", short: "i" },
  "idempotency-key": { type: "string" },
  priority: { type: "string" },
  tag: { type: "string", multiple: true },
  timeout: { type: "string" },
  wait: { type: "boolean", default: false },
  workflows: { type: "string", short: "w" },
  concurrency: { type: "string" },
  "poll-ms": { type: "string" },
} as const;

/** `cairn submit`: submits a run; with --wait, shows its steps live until it ends and prints its output. */
export const submitCommand: Command = {
  name: "submit",
  summary: "submit a run of a workflow (--wait: watch it and print its output)",
  usage: `cairn submit <workflow> [--input <json|@file>] [--idempotency-key <k>] [--priority <n>] [--tag <t>]... [--timeout <30s|5m>]
                  [--wait] [--workflows <dir>] [--json]

  --input            the run input: JSON text, or @path/to/file.json; an input the workflow's input schema rejects is
                     not submitted (exit 2, every failing field listed; with --json on stderr as
                     {"error":{"code":"INVALID_INPUT","message","validationErrors":[{"path","message"}]}})
  --idempotency-key  submitting the same key again returns the existing run
  --wait             show the run's steps live until it ends, then print its output (exit 10 if it failed, 11 if cancelled)
  --workflows        register the workflows of this folder first; with --wait also run them in this process
                     (no separate worker needed)`,
  async run(args, io) {
    const { values: v, positionals } = parse(args, OPTIONS);
    const [workflow, ...extra] = positionals;
    if (!workflow || extra.length) throw new UsageError("cairn submit needs exactly one workflow slug, e.g. `cairn submit hello --input '{\"name\":\"Ada\"}'`.");
    const input = await readInput(v.input, io.cwd);
    const priority = intFlag("priority", v.priority, Number.MIN_SAFE_INTEGER);
    const timeoutMs = durationMsFlag("timeout", v.timeout);
    return withBackend(v.backend, io, async (backend) => {
      let local: WorkerHandle | undefined;
      if (v.workflows) {
        const { workflows, problems } = await discoverWorkflows(resolve(io.cwd, v.workflows));
        if (problems.length) io.stderr(`Some workflows were not loaded:\n${formatProblems(problems)}\n`);
        await registerWorkflows(backend, workflows);
        if (v.wait && workflows.some((w) => w.slug === workflow)) {
          local = await startWorker({ backend, workflows, register: false, ...(v.concurrency ? { concurrency: intFlag("concurrency", v.concurrency, 1)! } : {}),
            onEvent: (e) => { if (e.type === "error") io.stderr(`worker error in ${e.where}: ${(e.error as Error)?.message ?? String(e.error)}\n`); } });
        }
      }
      const { runId, isNew } = await submit(backend, { workflow, input, ...(v["idempotency-key"] ? { idempotencyKey: v["idempotency-key"] } : {}), ...(priority === undefined ? {} : { priority }), ...(v.tag ? { tags: v.tag } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
      if (!v.wait) {
        if (v.json) printJson(io, { runId, isNew, workflow });
        else { io.stdout(`${runId}\n`); io.stderr(isNew ? `Submitted run ${runId} of ${workflow}.\n` : `Run ${runId} already exists for idempotency key ${JSON.stringify(v["idempotency-key"])}; not submitted again.\n`); }
        return ExitCode.ok;
      }
      if (!v.json) io.stderr(isNew ? `Submitted run ${runId} of ${workflow}; waiting for it to end (Ctrl-C stops waiting, the run goes on).\n` : `Run ${runId} already exists for this idempotency key; waiting for it.\n`);
      try {
        const final = await watch(backend, runId, io, v.json, intFlag("poll-ms", v["poll-ms"], 10) ?? 250);
        return report(final, isNew, io, v.json);
      } finally {
        await local?.stop({ urgent: true });
      }
    });
  },
};

async function watch(backend: Backend, runId: string, io: CliIO, json: boolean, pollMs: number): Promise<RunDetails> {
  const steps = (await backend.getRun(runId).then((r) => (r ? backend.getWorkflowSteps(r.workflowSlug) : []))).map((s) => s.id);
  const view = json ? undefined : new ProgressView(io.stderr, io.isTTY, steps);
  const stop = new AbortController();
  const onSig = () => stop.abort();
  process.once("SIGINT", onSig);
  try {
    const since = Date.now();
    let hinted = false;
    return await waitForRun(backend, runId, {
      pollMs, signal: stop.signal,
      onUpdate: (d) => {
        view?.update(d, backend.clock.nowUs());
        if (!json && !hinted && d.run.status === "pending" && Date.now() - since > 5000) {
          hinted = true;
          io.stderr(`The run is still pending: is a worker running for ${d.run.workflowSlug}? Start one with \`cairn worker --workflows <dir>\`, or pass --workflows to this command.\n`);
        }
      },
    });
  } finally {
    process.off("SIGINT", onSig);
  }
}

function report(d: RunDetails, isNew: boolean, io: CliIO, json: boolean): ExitCode {
  const { run } = d;
  const code = run.status === "completed" ? ExitCode.ok : run.status === "failed" ? ExitCode.runFailed : run.status === "cancelled" ? ExitCode.runCancelled : ExitCode.ok;
  if (json) {
    printJson(io, { runId: run.runId, isNew, workflow: run.workflowSlug, status: run.status, durationUs: run.durationUs, output: deserializeValue(run.output), error: run.error, failedStep: run.failedStep, validationErrors: run.inputValidation?.validationErrors });
    return code;
  }
  if (run.status === "completed") {
    io.stderr(`Run ${run.runId} completed in ${duration(run.durationUs)}. Output:\n`);
    io.stdout(`${prettyJson(run.output)}\n`);
  } else if (run.status === "failed") {
    const fields = run.inputValidation?.validationErrors?.map((e) => `  ${e.path}: ${e.message}`).join("\n");
    io.stderr(`Run ${run.runId} failed${run.failedStep ? ` at step ${run.failedStep}` : ""}: ${run.error?.message ?? "unknown error"}\n${fields ? `${fields}\n` : ""}See \`cairn run ${run.runId}\` and \`cairn logs ${run.runId}\`.\n`);
  } else if (run.status === "cancelled") {
    io.stderr(`Run ${run.runId} was cancelled${run.cancelReason ? `: ${run.cancelReason}` : ""}.\n`);
  } else {
    io.stderr(`Stopped waiting; run ${run.runId} is still ${run.status}. Follow it with \`cairn run ${run.runId}\`.\n`);
  }
  return code;
}

/** Parses --input: JSON text, or @file. */
export async function readInput(raw: string | undefined, cwd: string): Promise<unknown> {
  if (raw === undefined) return undefined;
  let text = raw;
  if (raw.startsWith("@")) {
    const file = resolve(cwd, raw.slice(1));
    try { text = await readFile(file, "utf8"); } catch (err) { throw new UsageError(`--input ${raw}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`); }
  }
  try { return JSON.parse(text); } catch (err) { throw new UsageError(`--input is not valid JSON (${(err as Error).message}). Quote it for the shell, e.g. --input '{"name":"Ada"}', or pass @file.json.`); }
}
