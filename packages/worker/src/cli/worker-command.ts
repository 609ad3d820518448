import { resolveAlertRules, resolveBackendUrl, resolveRetentionDefaults, resolveWorkflowsDir } from "../config.js";
import { engineModules } from "./engine-modules.js";
import { formatWorkerEvent, type WorkerEvent } from "../worker-events.js";
import type { Backend } from "@cairn/backend-interface";
import { action, defineCommand, intFlag, type CliIO, type CliProgram } from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { openBackendWhenReachable } from "./wait-for-backend.js";

interface WorkerFlags {
  concurrency?: string;
  workflows?: string;
  once?: boolean;
  heartbeatMs?: string;
  staleMs?: string;
  pollMs?: string;
  presenceMs?: string;
  graceMs?: string;
  abortGraceMs?: string;
  isolation?: string;
  workerId?: string;
  quiet?: boolean;
  metricsPort?: string;
}

/** `cairn worker`: discovers the workflows folder, registers it and runs steps until stopped (or drained with --once). */
export function defineWorkerCommand(cli: CliProgram): void {
  defineCommand(
    cli,
    "worker",
    "run workflows: claim and execute steps until stopped (Ctrl-C or SIGTERM drains gracefully)",
    [
      "cairn worker --workflows examples/workflows --concurrency 8",
      "cairn worker --workflows ./workflows --once            # drain what is queued, then exit",
      "cairn worker --isolation process --grace-ms 30000       # each attempt in a child process",
      "CAIRN_BACKEND=postgres://cairn@db/cairn cairn worker --json",
    ],
  )
    .option(
      "-w, --workflows <dir>",
      'folder with one sub-folder per workflow (default: CAIRN_WORKFLOWS, config "workflows", ./workflows)',
    )
    .option("-c, --concurrency <n>", "steps run at once (default 4, env CAIRN_CONCURRENCY)")
    .option("--once", "drain and exit: stop when no run of these workflows is pending or running")
    .option(
      "--isolation <mode>",
      "in-process (default) or process: each attempt in a child process, so a crashing step cannot take the worker down (env CAIRN_ISOLATION)",
    )
    .option("--heartbeat-ms <ms>", "heartbeat interval of running steps (default 5000, env CAIRN_HEARTBEAT_MS)")
    .option(
      "--stale-ms <ms>",
      "reclaim steps whose worker has not heartbeated for this long (default 30000, env CAIRN_STALE_MS)",
    )
    .option("--poll-ms <ms>", "poll interval when idle (default 500, env CAIRN_POLL_MS)")
    .option(
      "--presence-ms <ms>",
      "how often the worker records that it is alive, busy or idle (default 5000, env CAIRN_PRESENCE_MS)",
    )
    .option(
      "--grace-ms <ms>",
      "on SIGINT/SIGTERM, how long running steps may finish before they are released (default 10000, env CAIRN_GRACE_MS)",
    )
    .option(
      "--abort-grace-ms <ms>",
      "how long an aborted step may take to settle before it is abandoned (env CAIRN_ABORT_GRACE_MS)",
    )
    .option("--worker-id <id>", "this worker's id (default: host-pid-random)")
    .option("-q, --quiet", "only errors and start/stop lines on stderr")
    .option(
      "--metrics-port <port>",
      "serve Prometheus metrics at http://127.0.0.1:<port>/metrics (env CAIRN_METRICS_PORT; host: env CAIRN_METRICS_HOST)",
    )
    .addHelpText(
      "after",
      "\nWith --json: one JSON worker event per line on stdout.\nUnder a supervisor (systemd, Docker), run the installed bin, not npx: see docs/deployment.md.\n",
    )
    .action(
      action<WorkerFlags>(cli, async (_args, v, cx) => {
        const { io } = cx;
        const isolation = v.isolation ?? io.env.CAIRN_ISOLATION ?? "in-process";
        if (isolation !== "in-process" && isolation !== "process")
          throw new UsageError(`--isolation must be in-process or process, got ${JSON.stringify(isolation)}.`);
        const num = (flag: string, value: string | undefined, envName: string, min = 1) =>
          intFlag(flag, value ?? io.env[envName], min);
        const timing = {
          ...opt("concurrency", num("concurrency", v.concurrency, "CAIRN_CONCURRENCY")),
          ...opt("heartbeatMs", num("heartbeat-ms", v.heartbeatMs, "CAIRN_HEARTBEAT_MS")),
          ...opt("staleMs", num("stale-ms", v.staleMs, "CAIRN_STALE_MS")),
          ...opt("pollMs", num("poll-ms", v.pollMs, "CAIRN_POLL_MS")),
          ...opt("presenceMs", num("presence-ms", v.presenceMs, "CAIRN_PRESENCE_MS")),
          ...opt("shutdownGraceMs", num("grace-ms", v.graceMs, "CAIRN_GRACE_MS", 0)),
          ...opt("abortGraceMs", num("abort-grace-ms", v.abortGraceMs, "CAIRN_ABORT_GRACE_MS", 0)),
        };
        const metricsPort = num("metrics-port", v.metricsPort, "CAIRN_METRICS_PORT", 0);
        const dir = await resolveWorkflowsDir({
          ...(v.workflows ? { flag: v.workflows } : {}),
          env: io.env,
          cwd: io.cwd,
        });
        const { discoverWorkflows, formatProblems, startWorker } = await engineModules();
        const { workflows, problems } = await discoverWorkflows(dir);
        if (problems.length) io.stderr(`Some workflows were not loaded:\n${formatProblems(problems)}\n`);
        if (workflows.length === 0) {
          io.stderr(
            `No valid workflow in ${dir}. Each workflow is a folder with workflow.ts (export default defineWorkflow({ name })) and steps/*.ts (export default defineStep({ run })).\n`,
          );
          return ExitCode.badWorkflows;
        }
        const { url } = await resolveBackendUrl({
          ...(v.backend ? { flag: v.backend } : {}),
          env: io.env,
          cwd: io.cwd,
        });
        const retentionDefaults = await resolveRetentionDefaults(io.cwd);
        const alertRules = await resolveAlertRules(io.cwd);
        const label = url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
        const backend = await waitForBackend(url, label, io);
        if (!backend) {
          io.stderr(`[${new Date().toISOString()}] stopped before the backend at ${label} became reachable.\n`);
          return ExitCode.ok;
        }
        try {
          const log = (e: WorkerEvent) => {
            if (v.json)
              return io.stdout(
                `${JSON.stringify({ time: new Date().toISOString(), ...e, ...(e.type === "error" ? { error: String((e.error as Error)?.message ?? e.error) } : {}) })}\n`,
              );
            if (v.quiet && e.type !== "error" && !e.type.startsWith("worker:")) return;
            io.stderr(`[${new Date().toISOString()}] ${formatWorkerEvent(e)}\n`);
          };
          const handle = await startWorker({
            backend,
            workflows,
            isolation,
            once: v.once,
            handleSignals: true,
            onEvent: log,
            backendLabel: label,
            ...timing,
            ...(v.workerId ? { workerId: v.workerId } : {}),
            ...(retentionDefaults ? { retention: { defaults: retentionDefaults } } : {}),
            ...(alertRules.length ? { alerts: { rules: alertRules } } : {}),
          });
          // prom-client and the store gauges load only for a worker that serves metrics.
          const metrics =
            metricsPort === undefined
              ? undefined
              : await (
                  await import("./metrics-endpoint.js")
                ).startMetricsEndpoint(handle, backend, metricsPort, timing.concurrency, io);
          await handle.done;
          await metrics?.close();
          return ExitCode.ok;
        } finally {
          await backend.close().catch(() => {});
        }
      }),
    );
}

/**
 * Opens the backend, waiting with back-off while it is unreachable (a worker started before its database, or during
 * a restart, waits rather than exits), and saying so on stderr. SIGINT/SIGTERM stop the wait: null.
 */
async function waitForBackend(url: string, label: string, io: CliIO): Promise<Backend | null> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await openBackendWhenReachable(url, {
      cwd: io.cwd,
      signal: stop.signal,
      onWait: ({ attempt, delayMs, error }) =>
        io.stderr(
          `[${new Date().toISOString()}] waiting for the backend at ${label} (attempt ${attempt}, next in ${(delayMs / 1000).toFixed(1)}s): ${(error instanceof Error ? error.message : String(error)).replace(/ The call can be retried\.$/, "")}\n`,
        ),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function opt<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}
