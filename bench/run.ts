/**
 * Cairn benchmarks. `npm run bench [-- options]`:
 *   --only <w1,w2>       workloads: append, lifecycle, claims, queries, pg-notify, pg-cost, worker, worker-latency,
 *                        peers (Cairn beside graphile-worker and pg-boss; not in the default set: run it with --only peers)
 *   --drivers <list>     fs (= fs with durability fsync and none), fs-fsync, fs-none, sqlite, postgres (default all)
 *   --quick              smoke run: small sizes, 1 repetition, short windows
 *   --runs <n>           repetitions of throughput measurements (default 3; fast latency queries get max(n, 11))
 *   --window-ms <ms>     length of one throughput measurement (default 1500)
 *   --sizes <n1,n2>      finished-run counts of the query workload (default 1,000/10,000, and 100,000 for sqlite/postgres)
 *   --out <file>         also append the JSON lines to this file (default bench/results/<date>.jsonl; "-" for none)
 * Output: one JSON line per measurement on stdout; progress on stderr.
 */
import { cpus, loadavg, totalmem, release } from "node:os";
import { execSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { installFsyncCounter } from "./fsync-counter.js";

installFsyncCounter(); // before any driver module is loaded

const { values: args } = parseArgs({
  options: {
    only: { type: "string" },
    drivers: { type: "string" },
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    "window-ms": { type: "string" },
    sizes: { type: "string" },
    out: { type: "string" },
  },
});

const WORKLOADS = [
  "append",
  "lifecycle",
  "claims",
  "queries",
  "pg-notify",
  "pg-cost",
  "worker",
  "worker-latency",
  "peers",
] as const;
type Workload = (typeof WORKLOADS)[number];
/** Workloads run only when named with --only. */
const OPT_IN: Workload[] = ["peers"];

async function main(): Promise<void> {
  const { emit, progress, collected } = await import("./report.js");
  const { ALL_DRIVERS, postgresAvailable, DATABASE_URL } = await import("./drivers.js");
  type DriverName = (typeof ALL_DRIVERS)[number];

  const only = (args.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean) ?? WORKLOADS.filter((w) => !OPT_IN.includes(w))) as Workload[];
  for (const w of only)
    if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}; use ${WORKLOADS.join(", ")}`);
  let drivers: DriverName[] = [...ALL_DRIVERS];
  if (args.drivers) {
    drivers = [];
    for (const d of args.drivers.split(",").map((s) => s.trim())) {
      if (d === "fs") drivers.push("fs", "fs-none");
      else if (d === "fs-fsync") drivers.push("fs");
      else if ((ALL_DRIVERS as string[]).includes(d)) drivers.push(d as DriverName);
      else throw new Error(`unknown driver ${d}; use fs, fs-fsync, fs-none, sqlite, postgres`);
    }
  }
  const pgVersion = drivers.includes("postgres") ? await postgresAvailable() : null;
  if (drivers.includes("postgres") && !pgVersion) {
    progress(`Postgres is not reachable at ${DATABASE_URL}: skipping the postgres driver`);
    drivers = drivers.filter((d) => d !== "postgres");
  }

  const quick = args.quick ?? false;
  const baseRuns = args.runs ? Number(args.runs) : quick ? 1 : 3;
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const outFile =
    args.out === "-"
      ? undefined
      : (args.out ?? join(root, "bench", "results", `${quick ? "quick-" : ""}${stamp}.jsonl`));
  if (outFile) mkdirSync(dirname(outFile), { recursive: true });
  const ctx = {
    quick,
    drivers,
    outFile,
    windowMs: args["window-ms"] ? Number(args["window-ms"]) : quick ? 300 : 1500,
    runs: (fast = false) => (quick ? (fast ? 3 : 1) : fast ? Math.max(baseRuns, 11) : baseRuns),
  };

  let commit = "unknown";
  try {
    commit = execSync("git rev-parse --short HEAD", { cwd: root }).toString().trim();
  } catch {
    /* not a checkout */
  }
  const { fsyncProbe, pgCommitProbe } = await import("./machine.js");
  const probes = { fsyncSmallFile: fsyncProbe(), ...(pgVersion ? { postgresCommit: await pgCommitProbe() } : {}) };
  const machine = {
    workload: "machine",
    driver: "-",
    params: { quick, drivers, only },
    runs: 0,
    median: Number.NaN,
    unit: "-",
    min: Number.NaN,
    max: Number.NaN,
    peakRssBytes: process.memoryUsage().rss,
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    totalMemBytes: totalmem(),
    kernel: release(),
    node: process.version,
    postgres: pgVersion ?? "not used",
    date: new Date().toISOString(),
    loadAvgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    gitCommit: commit,
    probes,
  };
  emit(ctx, machine);
  const t0 = performance.now();

  const sizes = args.sizes ? args.sizes.split(",").map(Number) : undefined;
  const pg = drivers.includes("postgres");
  for (const w of only) {
    const tw = performance.now();
    progress(`=== ${w}`);
    switch (w) {
      case "append":
        await (await import("./appends.js")).benchAppends(ctx);
        break;
      case "lifecycle":
        await (await import("./lifecycle.js")).benchLifecycle(ctx);
        break;
      case "claims":
        await (await import("./claims.js")).benchClaims(ctx);
        break;
      case "queries":
        await (await import("./queries.js")).benchQueries(ctx, sizes);
        break;
      case "pg-notify":
        if (pg) await (await import("./postgres-claims.js")).benchNotifyLatency(ctx);
        break;
      case "pg-cost":
        if (pg) await (await import("./postgres-claims.js")).benchRoundTrips(ctx);
        break;
      case "worker":
        await (await import("./worker.js")).benchWorkerThroughput(ctx);
        break;
      case "worker-latency":
        await (await import("./worker.js")).benchWorkerLatency(ctx);
        break;
      case "peers":
        await (await import("./peers/peers.js")).benchPeers(ctx);
        break;
    }
    progress(`=== ${w} done in ${((performance.now() - tw) / 1000).toFixed(1)} s`);
  }
  const errors = collected.filter((m) => "error" in m).length;
  progress(
    `finished in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${collected.length - 1} lines, ${errors} errors; load average now ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}${outFile ? `; written to ${outFile}` : ""}`,
  );
  emit(ctx, {
    ...machine,
    workload: "machine-end",
    probes: { fsyncSmallFile: fsyncProbe(), ...(pgVersion ? { postgresCommit: await pgCommitProbe() } : {}) },
    date: new Date().toISOString(),
    loadAvgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
    totalSeconds: (performance.now() - t0) / 1000,
  });
}

main().then(
  () => setImmediate(() => process.exit(0)),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
