/**
 * Batch submit and drain in one process, for finding where the time goes (the peer comparison, bench/peers, is the
 * race): `node -C @cairn/source --import tsx bench/in-process.ts submit|drain sqlite|postgres [N] [rounds]`.
 *  - submit: one `submitRuns` of N runs of `noop-1` (registered first, so each run starts and schedules its step in
 *    the same write). Runs/s and this process's CPU µs per run.
 *  - drain: N runs submitted, then the real worker (`startWorker`, 10 slots, on a backend of its own) drains them in
 *    this process. Runs/s, this process's CPU µs per run; Postgres: the server's CPU µs per run, summed over its
 *    processes from /proc (a server on this machine). `--wal` (SQLite): the worker's backend does not checkpoint, so
 *    the WAL bytes its writes appended per run can be read off the file (commits then cost more: a separate figure);
 *    `--checkpoint-pages=N` (SQLite): the worker's backend checkpoints past N WAL pages (walCheckpointPages).
 * One JSON line per round.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SqliteBackend } from "@cairn/backend-sqlite";
import { discoverWorkflows, openBackend, registerWorkflows, startWorker } from "@cairn/worker";
import { createDriver, type DriverName } from "./drivers.js";

const args = process.argv.slice(2);
const walMode = args.includes("--wal");
const checkpointPages = Number(args.find((a) => a.startsWith("--checkpoint-pages="))?.split("=")[1] ?? Number.NaN);
const [mode = "submit", driver = "sqlite", nArg = "20000", roundsArg = "3"] = args.filter((a) => !a.startsWith("--"));
if ((mode !== "submit" && mode !== "drain") || (driver !== "sqlite" && driver !== "postgres")) {
  throw new Error(
    "usage: bench/in-process.ts submit|drain sqlite|postgres [N] [rounds] [--wal] [--checkpoint-pages=N]",
  );
}
const N = Number(nArg);
const WORKFLOWS = join(dirname(fileURLToPath(import.meta.url)), "workflows");

/** CPU time of the local Postgres server's processes in µs (null when they cannot be read). */
function postgresCpuUs(): number | null {
  try {
    const pids = execFileSync("pgrep", ["-x", "postgres"]).toString().trim().split("\n");
    const tick = 1e6 / Number(execFileSync("getconf", ["CLK_TCK"]).toString());
    let total = 0;
    for (const pid of pids) {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      total += (Number(fields[11]) + Number(fields[12])) * tick; // utime, stime
    }
    return total;
  } catch {
    return null;
  }
}

const cpuUs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return u.user + u.system;
};

async function submitRound(): Promise<Record<string, unknown>> {
  const inst = await createDriver(driver as DriverName);
  try {
    await registerWorkflows(inst.backend, (await discoverWorkflows(WORKFLOWS)).workflows);
    const items = Array.from({ length: N }, (_, i) => ({ workflowSlug: "noop-1", input: { i } }));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await inst.backend.submitRuns(items);
    const ms = performance.now() - t0;
    if (out.some((o) => !o.ok)) throw new Error("an item was refused");
    return { runsPerSec: Math.round((N * 1000) / ms), cpuUsPerRun: Math.round(cpuUs(c0) / N) };
  } finally {
    await inst.destroy();
  }
}

async function drainRound(): Promise<Record<string, unknown>> {
  const inst = await createDriver(driver as DriverName);
  try {
    const { workflows } = await discoverWorkflows(WORKFLOWS);
    await registerWorkflows(inst.backend, workflows);
    const out = await inst.backend.submitRuns(
      Array.from({ length: N }, (_, i) => ({ workflowSlug: "noop-1", input: { i } })),
    );
    if (out.some((o) => !o.ok)) throw new Error("an item was refused");
    const sqliteOptions = walMode
      ? { walCheckpointPages: 2 ** 31 }
      : Number.isNaN(checkpointPages)
        ? {}
        : { walCheckpointPages: checkpointPages };
    const backend = driver === "sqlite" ? new SqliteBackend(inst.location, sqliteOptions) : await openBackend(inst.url);
    if (backend instanceof SqliteBackend) await backend.initialize();
    const walSize = () => {
      try {
        return statSync(`${inst.location}-wal`).size;
      } catch {
        return 0;
      }
    };
    let finished = 0;
    let allDone: () => void = () => {};
    const done = new Promise<void>((resolve) => (allDone = resolve));
    const wal0 = walSize();
    const pg0 = driver === "postgres" ? postgresCpuUs() : null;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const worker = await startWorker({
      backend,
      workflowsDir: WORKFLOWS,
      concurrency: 10,
      onEvent: (e) => {
        if (e.type === "step:completed" && ++finished === N) allDone();
      },
    });
    await done;
    const ms = performance.now() - t0;
    const cpu = cpuUs(c0);
    const pg1 = driver === "postgres" ? postgresCpuUs() : null;
    const walBytes = walSize() - wal0;
    await worker.stop();
    await backend.close();
    return {
      runsPerSec: Math.round((N * 1000) / ms),
      cpuUsPerRun: Math.round(cpu / N),
      ...(pg0 !== null && pg1 !== null ? { serverCpuUsPerRun: Math.round((pg1 - pg0) / N) } : {}),
      ...(walMode && driver === "sqlite" ? { checkpoints: "off", walBytesPerRun: Math.round(walBytes / N) } : {}),
      ...(!Number.isNaN(checkpointPages) ? { checkpointPages } : {}),
    };
  } finally {
    await inst.destroy();
  }
}

for (let round = 1; round <= Number(roundsArg); round++) {
  const figures = mode === "submit" ? await submitRound() : await drainRound();
  console.log(JSON.stringify({ mode, driver, n: N, round, ...figures }));
}
process.exit(0);
