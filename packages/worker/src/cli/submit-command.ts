import { readFile } from "node:fs/promises";
import { assertTenantId } from "@cairn/backend-interface";
import { resolve } from "node:path";
import { submit } from "../client.js";
import type { WorkerHandle } from "../worker.js";
import { engineModules } from "./engine-modules.js";
import {
  action,
  collect,
  defineCommand,
  durationMsFlag,
  instantUsFlag,
  intFlag,
  printJson,
  withBackend,
  type CliProgram,
} from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { duration, time } from "./format.js";
import { waitAndReport } from "./wait-run.js";

interface SubmitFlags {
  input?: string;
  runType?: string;
  trigger?: string;
  idempotencyKey?: string;
  concurrencyKey?: string;
  priority?: string;
  tag?: string[];
  timeout?: string;
  delay?: string;
  at?: string;
  wait?: boolean;
  workflows?: string;
  concurrency?: string;
  pollMs: string;
  tenant?: string;
}

/** `cairn submit`: submits a run (now, after --delay or --at); with --wait, shows its steps live until it ends and prints its output. */
export function defineSubmitCommand(cli: CliProgram): void {
  defineCommand(cli, "submit", "submit a run of a workflow (--wait: watch it and print its output)", [
    `cairn submit hello --input '{"name":"Ada"}' --wait --workflows examples/workflows`,
    "cairn submit etl --input @input.json --tag nightly",
    "cairn submit etl --delay 10m",
    "cairn submit etl --at 2026-03-01T09:00:00Z",
    "cairn submit etl --idempotency-key order-42 --json",
    "cairn submit etl --tenant acme",
  ])
    .argument("<workflow>", "the workflow's slug (its folder name)")
    .option(
      "-i, --input <json|@file>",
      "the run input: JSON text, or @path/to/file.json; an input the workflow's schema rejects is not submitted (exit 2, every failing field listed)",
    )
    .option("--idempotency-key <key>", "submitting the same key again returns the existing run")
    .option(
      "--concurrency-key <key>",
      "the run's flow-control key, for a workflow that declares concurrency, mode, rateLimit or debounce (instead of the key its input gives)",
    )
    .option("--priority <n>", "higher runs first")
    .option(
      "--tenant <id>",
      "the tenant that owns the run (letters, digits, '-', '_', '.'); `cairn runs --tenant` and tenant-scoped clients see only its runs",
    )
    .option("--run-type <type>", "what kind of run this is (stored as the run's runType)")
    .option("--trigger <trigger>", "what started the run: cron, api, webhook, … (stored as the run's trigger)")
    .option("--tag <tag>", "a tag to find the run by (repeat for several)", collect)
    .option("--timeout <duration>", "fail the run if it has not ended this long after it started (30s, 5m)")
    .option("--delay <duration>", "start the run this long from now (30s, 10m, 2h)")
    .option("--at <time>", "start the run at this ISO 8601 time (2026-03-01T09:00:00Z)")
    .option(
      "--wait",
      "show the run's steps live until it ends, then print its output (exit 10 if it failed, 11 if cancelled, 130 on Ctrl-C)",
    )
    .option(
      "-w, --workflows <dir>",
      "register the workflows of this folder first; with --wait also run them in this process (no separate worker needed)",
    )
    .option("--concurrency <n>", "with --wait --workflows: steps the in-process worker runs at once")
    .option("--poll-ms <ms>", "with --wait: how often to read the run when the backend cannot notify", "250")
    .action(
      action<SubmitFlags>(cli, async ([workflow], v, cx) => {
        const { io } = cx;
        const input = await readInput(v.input, io.cwd);
        const priority = intFlag("priority", v.priority, Number.MIN_SAFE_INTEGER);
        const timeoutMs = durationMsFlag("timeout", v.timeout);
        const concurrency = intFlag("concurrency", v.concurrency, 1);
        if (v.delay !== undefined && v.at !== undefined) throw new UsageError("Give --delay or --at, not both.");
        const delayMs = durationMsFlag("delay", v.delay);
        const atUs = instantUsFlag("at", v.at);
        if (v.tenant !== undefined) assertTenantId(v.tenant, "--tenant");
        return withBackend(v.backend, io, async (backend) => {
          const nowUs = backend.clock.nowUs();
          const availableAtUs = delayMs ? nowUs + delayMs * 1000 : atUs;
          if (atUs !== undefined && atUs < nowUs) io.stderr(`--at ${v.at} is in the past; the run starts now.\n`);
          let local: WorkerHandle | undefined;
          if (v.workflows) {
            const { discoverWorkflows, formatProblems, registerWorkflows, startWorker } = await engineModules();
            const { workflows, problems } = await discoverWorkflows(resolve(io.cwd, v.workflows));
            if (problems.length) io.stderr(`Some workflows were not loaded:\n${formatProblems(problems)}\n`);
            await registerWorkflows(backend, workflows);
            if (v.wait && workflows.some((w) => w.slug === workflow)) {
              local = await startWorker({
                backend,
                workflows,
                register: false,
                ...(concurrency ? { concurrency } : {}),
                onEvent: (e) => {
                  if (e.type === "error")
                    io.stderr(`worker error in ${e.where}: ${(e.error as Error)?.message ?? String(e.error)}\n`);
                },
              });
            }
          }
          try {
            const { runId, isNew } = await submit(
              backend,
              {
                workflow: workflow!,
                input,
                ...(v.idempotencyKey ? { idempotencyKey: v.idempotencyKey } : {}),
                ...(v.concurrencyKey ? { concurrencyKey: v.concurrencyKey } : {}),
                ...(priority === undefined ? {} : { priority }),
                ...(v.tag?.length ? { tags: v.tag } : {}),
                ...(timeoutMs ? { timeoutMs } : {}),
                ...(availableAtUs && availableAtUs > nowUs ? { availableAtUs } : {}),
                ...(v.runType !== undefined ? { runType: v.runType } : {}),
                ...(v.trigger !== undefined ? { trigger: v.trigger } : {}),
              },
              v.tenant === undefined ? backend : backend.forTenant(v.tenant),
            );
            const later =
              availableAtUs && availableAtUs > nowUs
                ? `; it starts at ${time(availableAtUs)} (in ${duration(availableAtUs - nowUs)})`
                : "";
            if (!v.wait) {
              if (v.json) printJson(io, { runId, isNew, workflow, ...(later ? { availableAtUs } : {}) });
              else {
                io.stdout(`${runId}\n`);
                io.stderr(
                  isNew
                    ? `Submitted run ${runId} of ${workflow}${later}.\n`
                    : `Run ${runId} already exists for idempotency key ${JSON.stringify(v.idempotencyKey)}; not submitted again.\n`,
                );
              }
              return ExitCode.ok;
            }
            if (!v.json)
              io.stderr(
                isNew
                  ? `Submitted run ${runId} of ${workflow}${later}; waiting for it to end (Ctrl-C stops waiting).\n`
                  : `Run ${runId} already exists for this idempotency key; waiting for it.\n`,
              );
            const wait = { json: v.json === true, pollMs: v.pollMs, isNew, ...(local ? { local } : {}) };
            local = undefined; // waitAndReport stops it
            return await waitAndReport(backend, runId, cx, wait);
          } finally {
            await local?.stop({ urgent: true });
          }
        });
      }),
    );
}

/** Parses --input: JSON text, or @file. */
export async function readInput(raw: string | undefined, cwd: string): Promise<unknown> {
  if (raw === undefined) return undefined;
  let text = raw;
  if (raw.startsWith("@")) {
    const file = resolve(cwd, raw.slice(1));
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw new UsageError(
        `--input ${raw}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`,
      );
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `--input is not valid JSON (${(err as Error).message}). Quote it for the shell, e.g. --input '{"name":"Ada"}', or pass @file.json.`,
    );
  }
}
