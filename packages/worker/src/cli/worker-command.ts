import { resolveBackendUrl, resolveWorkflowsDir } from "../config.js";
import { discoverWorkflows, formatProblems } from "../discovery.js";
import { startWorker } from "../worker.js";
import { formatWorkerEvent, type WorkerEvent } from "../worker-events.js";
import type { Backend } from "@cairn/backend-interface";
import { intFlag, parse, type CliIO, type Command } from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { openBackendWhenReachable } from "./wait-for-backend.js";
import { startMetricsEndpoint } from "./metrics-endpoint.js";

const OPTIONS = {
  concurrency: { type: "string", short: "c" },
  workflows: { type: "string", short: "w" },
  once: { type: "boolean", default: false },
  "heartbeat-ms": { type: "string" },
  "stale-ms": { type: "string" },
  "poll-ms": { type: "string" },
  "presence-ms": { type: "string" },
  "grace-ms": { type: "string" },
  "abort-grace-ms": { type: "string" },
  isolation: { type: "string" },
  "worker-id": { type: "string" },
  quiet: { type: "boolean", short: "q", default: false },
  "metrics-port": { type: "string" },
} as const;

/** `cairn worker`: discovers the workflows folder, registers it and runs steps until stopped (or drained with --once). */
export const workerCommand: Command = {
  name: "worker",
  summary: "run workflows: claim and execute steps until stopped (Ctrl-C drains gracefully)",
  usage: `cairn worker [--workflows <dir>] [--concurrency <n>] [--once] [--isolation in-process|process]
                  [--heartbeat-ms <ms>] [--stale-ms <ms>] [--poll-ms <ms>] [--presence-ms <ms>] [--grace-ms <ms>] [--worker-id <id>]
                  [--metrics-port <port>] [--quiet] [--json]

  --workflows       folder with one sub-folder per workflow (default: CAIRN_WORKFLOWS, config "workflows", ./workflows)
  --concurrency     steps run at once (default 4)
  --once            drain and exit: stop when no run of these workflows is pending or running
  --isolation       process: run each step attempt in a child process, so a crashing step cannot take the worker down
  --heartbeat-ms    heartbeat interval of running steps (default 5000, env CAIRN_HEARTBEAT_MS)
  --stale-ms        reclaim steps whose worker has not heartbeated for this long (default 30000, env CAIRN_STALE_MS)
  --poll-ms         poll interval when idle (default 500, env CAIRN_POLL_MS)
  --presence-ms     how often the worker records that it is alive, busy or idle (default 5000, env CAIRN_PRESENCE_MS)
  --grace-ms        on SIGINT/SIGTERM, how long running steps may finish before they are released (default 10000)
  --metrics-port    serve Prometheus metrics at http://127.0.0.1:<port>/metrics (host: env CAIRN_METRICS_HOST)
  --json            one JSON worker event per line on stdout`,
  async run(args, io) {
    const { values: v, positionals } = parse(args, OPTIONS);
    if (positionals.length) throw new UsageError(`cairn worker takes no positional arguments (got ${positionals.join(" ")}).`);
    const isolation = v.isolation ?? io.env.CAIRN_ISOLATION ?? "in-process";
    if (isolation !== "in-process" && isolation !== "process") throw new UsageError(`--isolation must be in-process or process, got ${JSON.stringify(isolation)}.`);
    const num = (flag: keyof typeof OPTIONS, envName: string, min = 1) => intFlag(flag, (v[flag] as string | undefined) ?? io.env[envName], min);
    const dir = await resolveWorkflowsDir({ ...(v.workflows ? { flag: v.workflows } : {}), env: io.env, cwd: io.cwd });
    const { workflows, problems } = await discoverWorkflows(dir);
    if (problems.length) io.stderr(`Some workflows were not loaded:\n${formatProblems(problems)}\n`);
    if (workflows.length === 0) {
      io.stderr(`No valid workflow in ${dir}. Each workflow is a folder with workflow.ts (export default defineWorkflow({ name })) and steps/*.ts (export default defineStep({ run })).\n`);
      return ExitCode.badWorkflows;
    }
    const { url } = await resolveBackendUrl({ ...(v.backend ? { flag: v.backend } : {}), env: io.env, cwd: io.cwd });
    const label = url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
    const backend = await waitForBackend(url, label, io);
    if (!backend) { io.stderr(`[${new Date().toISOString()}] stopped before the backend at ${label} became reachable.\n`); return ExitCode.ok; }
    try {
      const log = (e: WorkerEvent) => {
        if (v.json) return io.stdout(`${JSON.stringify({ time: new Date().toISOString(), ...e, ...(e.type === "error" ? { error: String((e.error as Error)?.message ?? e.error) } : {}) })}\n`);
        if (v.quiet && e.type !== "error" && !e.type.startsWith("worker:")) return;
        io.stderr(`[${new Date().toISOString()}] ${formatWorkerEvent(e)}\n`);
      };
      const handle = await startWorker({
        backend, workflows, isolation, once: v.once, handleSignals: true, onEvent: log, backendLabel: label,
        ...opt("concurrency", num("concurrency", "CAIRN_CONCURRENCY")), ...opt("heartbeatMs", num("heartbeat-ms", "CAIRN_HEARTBEAT_MS")),
        ...opt("staleMs", num("stale-ms", "CAIRN_STALE_MS")), ...opt("pollMs", num("poll-ms", "CAIRN_POLL_MS")),
        ...opt("presenceMs", num("presence-ms", "CAIRN_PRESENCE_MS")),
        ...opt("shutdownGraceMs", num("grace-ms", "CAIRN_GRACE_MS", 0)), ...opt("abortGraceMs", num("abort-grace-ms", "CAIRN_ABORT_GRACE_MS", 0)),
        ...(v["worker-id"] ? { workerId: v["worker-id"] } : {}),
      });
      const metricsPort = num("metrics-port", "CAIRN_METRICS_PORT", 0);
      const metrics = await startMetricsEndpoint(handle, backend, metricsPort, num("concurrency", "CAIRN_CONCURRENCY"), io);
      await handle.done;
      await metrics?.close();
      return ExitCode.ok;
    } finally {
      await backend.close().catch(() => {});
    }
  },
};

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
      cwd: io.cwd, signal: stop.signal,
      onWait: ({ attempt, delayMs, error }) => io.stderr(`[${new Date().toISOString()}] waiting for the backend at ${label} (attempt ${attempt}, next in ${(delayMs / 1000).toFixed(1)}s): ${(error instanceof Error ? error.message : String(error)).replace(/ The call can be retried\.$/, "")}\n`),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function opt<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}

