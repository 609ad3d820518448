/**
 * Turns a results file (JSON lines from bench/run.ts) into the Markdown tables of BENCHMARKS.md:
 *   node --import tsx bench/summarize.ts bench/results/<file>.jsonl
 */
import { readFileSync } from "node:fs";

type Line = Record<string, any>;
const file = process.argv[2];
if (!file) throw new Error("usage: summarize.ts <results.jsonl>");
const lines: Line[] = readFileSync(file, "utf8")
  .split("\n")
  .filter((l) => l.startsWith("{"))
  .map((l) => JSON.parse(l));
const DRIVERS = ["fs", "fs-none", "sqlite", "postgres"];
const LABEL: Record<string, string> = {
  fs: "fs (fsync)",
  "fs-none": "fs (none)",
  sqlite: "SQLite",
  postgres: "Postgres",
};
const out: string[] = [];
const p = (s = "") => out.push(s);

function fmt(n: unknown): string {
  if (typeof n !== "number" || !Number.isFinite(n)) return "–";
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 10) return n.toFixed(1);
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}
const same = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  Object.entries(b).every(([k, v]) => a[k] === v);
function find(workload: string, driver: string, params: Record<string, unknown>): Line | undefined {
  return lines.find((l) => l.workload === workload && l.driver === driver && same(l.params ?? {}, params));
}
function cell(l: Line | undefined, key = "median"): string {
  if (!l) return "n/a";
  if (l.error) return `**error**: ${String(l.error).slice(0, 120)}`;
  const v = fmt(l[key]);
  const mark = l.targetMet === true ? " ✅" : l.targetMet === false ? " ❌" : "";
  return `${v}${mark}`;
}
function table(head: string[], rows: string[][]): void {
  p(`| ${head.join(" | ")} |`);
  p(`|${head.map(() => "---").join("|")}|`);
  for (const r of rows) p(`| ${r.join(" | ")} |`);
  p();
}
const present = (workload: string) =>
  DRIVERS.filter((d) => lines.some((l) => l.workload === workload && l.driver === d));

const m = lines.find((l) => l.workload === "machine");
const mEnd = lines.find((l) => l.workload === "machine-end");
if (m) {
  p("### Machine and conditions");
  p();
  table(
    ["fact", "value"],
    [
      ["date", `${m.date} → ${mEnd?.date ?? "?"} (${fmt(mEnd?.totalSeconds)} s)`],
      ["CPU", `${m.cores} cores, ${m.cpuModel}`],
      ["memory", `${fmt(m.totalMemBytes / 2 ** 30)} GiB`],
      ["kernel / Node", `${m.kernel} / ${m.node}`],
      ["Postgres", m.postgres],
      ["git commit", m.gitCommit],
      [
        "load average (1/5/15 min) at start / end",
        `${m.loadAvgAtStart?.join(" ")} / ${mEnd?.loadAvgAtEnd?.join(" ") ?? "?"}`,
      ],
      [
        "fsync of a small new file (p50 / p90), start / end",
        `${fmt(m.probes?.fsyncSmallFile?.p50Ms)} / ${fmt(m.probes?.fsyncSmallFile?.p90Ms)} ms; ${fmt(mEnd?.probes?.fsyncSmallFile?.p50Ms)} / ${fmt(mEnd?.probes?.fsyncSmallFile?.p90Ms)} ms`,
      ],
      [
        "Postgres one-row commit, synchronous_commit on (p50 / p90), start / end",
        `${fmt(m.probes?.postgresCommit?.commitSyncOnP50Ms)} / ${fmt(m.probes?.postgresCommit?.commitSyncOnP90Ms)} ms; ${fmt(mEnd?.probes?.postgresCommit?.commitSyncOnP50Ms)} / ${fmt(mEnd?.probes?.postgresCommit?.commitSyncOnP90Ms)} ms`,
      ],
      [
        "Postgres commit, synchronous_commit off (p50) / SELECT 1 round trip (p50)",
        `${fmt(m.probes?.postgresCommit?.commitSyncOffP50Ms)} ms / ${fmt(m.probes?.postgresCommit?.roundTripP50Ms)} ms`,
      ],
    ],
  );
}

{
  const ds = present("append");
  if (ds.length) {
    p("### 1. Events appended per second (median events/s)");
    p();
    const vs = [
      { method: "appendEvent", inFlight: 1 },
      { method: "appendEvent", inFlight: 4 },
      { method: "batchAppendEvents", inFlight: 1 },
    ];
    table(
      ["call", ...ds.map((d) => LABEL[d]!), "fsyncs per event (fs)"],
      vs.map((v) => [
        v.method === "batchAppendEvents"
          ? "batchAppendEvents (100 events over 10 runs)"
          : `appendEvent, ${v.inFlight} in flight`,
        ...ds.map((d) => cell(find("append", d, v))),
        fmt(find("append", "fs", v)?.fsyncsPerEvent),
      ]),
    );
  }
}

{
  const ds = present("lifecycle");
  if (ds.length) {
    p("### 2. Full life of a single-step run (median runs/s = steps/s)");
    p();
    table(
      ["in flight", ...ds.map((d) => LABEL[d]!), "fsyncs per run (fs)"],
      [1, 4].map((n) => [
        String(n),
        ...ds.map((d) => cell(find("lifecycle", d, { inFlight: n }))),
        fmt(find("lifecycle", "fs", { inFlight: n })?.fsyncsPerRun),
      ]),
    );
  }
}

{
  const ds = present("claim-complete");
  if (ds.length) {
    p("### Claim → complete of already-scheduled steps (median steps/s)");
    p();
    const vs = [
      { claimers: 1, mode: "unbatched" },
      { claimers: 4, mode: "unbatched" },
      { claimers: 1, mode: "batch" },
      { claimers: 4, mode: "batch" },
      { claimers: 1, mode: "batch+batchComplete" },
      { claimers: 4, mode: "batch+batchComplete" },
    ].filter((v) => lines.some((l) => l.workload === "claim-complete" && same(l.params ?? {}, v)));
    table(
      ["mode", ...ds.map((d) => LABEL[d]!)],
      vs.map((v) => [
        `${v.mode}, ${v.claimers} claimer${v.claimers > 1 ? "s" : ""}`,
        ...ds.map((d) => cell(find("claim-complete", d, v))),
      ]),
    );
  }
}

{
  const ds = present("query");
  if (ds.length) {
    p("### 3. Query latency (median ms) and memory");
    p();
    const qs = [
      "listScheduledSteps",
      "reclaimStaleSteps",
      "listRuns(20)",
      "listRuns(pending,50)",
      "getQueueDepth",
      "getRun",
      "getAnalyticsSummary",
    ].filter((q) => lines.some((l) => l.workload === "query" && l.params?.query === q));
    const rows: string[][] = [];
    for (const d of ds) {
      const sizes = [
        ...new Set(
          lines.filter((l) => l.workload === "query" && l.driver === d).map((l) => l.params.finishedRuns as number),
        ),
      ].sort((a, b) => a - b);
      for (const size of sizes) {
        const ls = qs.map((q) => find("query", d, { query: q, finishedRuns: size }));
        const peak = Math.max(...ls.map((l) => l?.peakRssBytes ?? 0));
        rows.push([LABEL[d]!, size.toLocaleString("en-US"), ...ls.map((l) => cell(l)), `${fmt(peak / 2 ** 20)} MiB`]);
      }
    }
    table(["driver", "finished runs", ...qs, "peak RSS"], rows);
    const heap: string[][] = [];
    for (const d of ds) {
      const sizes = [
        ...new Set(
          lines.filter((l) => l.workload === "query" && l.driver === d).map((l) => l.params.finishedRuns as number),
        ),
      ].sort((a, b) => a - b);
      for (const size of sizes)
        heap.push([
          LABEL[d]!,
          size.toLocaleString("en-US"),
          ...qs.map((q) => {
            const l = find("query", d, { query: q, finishedRuns: size });
            return l && !l.error ? `${fmt((l.heapGrowthBytes ?? 0) / 2 ** 20)}` : "–";
          }),
        ]);
    }
    p(
      "Heap growth while the query ran (MiB, peak heap used minus heap used before; sampled every 5 ms between awaits):",
    );
    p();
    table(["driver", "finished runs", ...qs], heap);
    const pop = lines.filter((l) => l.workload === "populate");
    if (pop.length) {
      p("Dataset population through submitRun + batchAppendEvents (only when not cached):");
      p();
      table(
        ["driver", "finished runs", "runs/s", "seconds"],
        pop.map((l) => [
          LABEL[l.driver] ?? l.driver,
          l.params.finishedRuns.toLocaleString("en-US"),
          fmt(l.median),
          fmt(l.elapsedMs / 1000),
        ]),
      );
    }
  }
}

{
  const ls = lines.filter((l) => l.workload === "pg-notify-latency");
  if (ls.length) {
    p("### Postgres: enqueue → wake-up → claim with LISTEN/NOTIFY");
    p();
    table(
      ["measure", "samples", "p50 ms", "p99 ms", "min", "max"],
      ls.map((l) =>
        l.error
          ? [l.params?.measure ?? "all", "–", `**error**: ${l.error}`, "", "", ""]
          : [
              l.params.measure + (l.targetMet === undefined ? "" : l.targetMet ? " ✅" : " ❌"),
              String(l.runs),
              fmt(l.p50),
              fmt(l.p99),
              fmt(l.min),
              fmt(l.max),
            ],
      ),
    );
  }
}

{
  const ls = lines.filter((l) => l.workload === "pg-cost-per-step");
  if (ls.length) {
    p("### Postgres: round trips and row writes");
    p();
    table(
      ["scenario", "round trips", "row writes (ins+upd+del)", "by table (per unit)", "sequential rate /s"],
      ls.map((l) =>
        l.error
          ? [l.params.scenario, `**error**: ${l.error}`, "", "", ""]
          : [
              `${l.params.scenario} (${l.unit.replace("round trips ", "")})`,
              fmt(l.median),
              fmt(l.rowWritesPerUnit),
              Object.entries(l.rowWritesByTable as Record<string, any>)
                .map(
                  ([t, v]) =>
                    `${t}: ${[v.inserts ? `${fmt(v.inserts)} ins` : "", v.updates ? `${fmt(v.updates)} upd (${fmt(v.hotUpdates)} HOT)` : "", v.deletes ? `${fmt(v.deletes)} del` : ""].filter(Boolean).join(", ")}`,
                )
                .join("; "),
              fmt(l.sequentialRatePerSecond),
            ],
      ),
    );
  }
}

{
  const ds = present("worker-throughput");
  if (ds.length) {
    p("### Worker: end-to-end throughput (median runs/s; steps/s in brackets)");
    p();
    const vs = [
      { workflow: "noop-1", processes: 1 },
      { workflow: "noop-1", processes: 2 },
      { workflow: "noop-5", processes: 1 },
      { workflow: "noop-5", processes: 2 },
    ];
    table(
      ["workflow", "worker processes", ...ds.map((d) => LABEL[d]!)],
      vs.map((v) => [
        v.workflow === "noop-1" ? "1 step" : "5 steps (chain)",
        String(v.processes),
        ...ds.map((d) => {
          const l = find("worker-throughput", d, v);
          return l && !l.error ? `${fmt(l.median)} (${fmt(l.stepsPerSecondMedian)})` : cell(l);
        }),
      ]),
    );
    p(
      "Worker overhead: worker rates (1 process, 4 slots) against the driver's own rates in this run. Target: the worker adds under 20 % over claim → complete, i.e. worker steps/s ≥ claim→complete steps/s ÷ 1.2 (0.83×), judged on the 5-step chain (per step the worker schedules, claims and completes; run start and end are spread over 5 steps). The 1-step ratio is against the Backend-only run life, which also includes submitRun (the worker's queue was submitted beforehand), so it flatters the worker:",
    );
    p();
    table(
      [
        "driver",
        "worker 1-step runs/s",
        "Backend-only run life, 4 in flight",
        "worker ÷ Backend-only",
        "worker 5-step steps/s",
        "claim→complete, 4 claimers",
        "worker ÷ claim→complete",
      ],
      ds.map((d) => {
        const w1 = find("worker-throughput", d, { workflow: "noop-1", processes: 1 });
        const w5 = find("worker-throughput", d, { workflow: "noop-5", processes: 1 });
        const life = find("lifecycle", d, { inFlight: 4 });
        const cc = find("claim-complete", d, { claimers: 4, mode: "unbatched" });
        const r1 = w1?.median && life?.median ? w1.median / life.median : Number.NaN;
        const r5 = w5?.stepsPerSecondMedian && cc?.median ? w5.stepsPerSecondMedian / cc.median : Number.NaN;
        return [
          LABEL[d]!,
          fmt(w1?.median),
          fmt(life?.median),
          Number.isFinite(r1) ? `${fmt(r1)}×` : "–",
          fmt(w5?.stepsPerSecondMedian),
          fmt(cc?.median),
          Number.isFinite(r5) ? `${fmt(r5)}×${r5 >= 1 / 1.2 ? " ✅" : " ❌"}` : "–",
        ];
      }),
    );
  }
}

{
  const ls = lines.filter((l) => l.workload === "worker-enqueue-to-start");
  if (ls.length) {
    p("### Worker: enqueue → step started with an idle worker");
    p();
    table(
      ["driver", "wake-ups", "samples", "p50 ms", "p99 ms", "min", "max"],
      ls.map((l) =>
        l.error
          ? [LABEL[l.driver] ?? l.driver, l.params?.wakeups ?? "", "–", `**error**: ${l.error}`, "", "", ""]
          : [
              LABEL[l.driver] ?? l.driver,
              l.params.wakeups,
              String(l.runs),
              `${fmt(l.p50)}${l.targetMet === undefined ? "" : l.targetMet ? " ✅" : " ❌"}`,
              fmt(l.p99),
              fmt(l.min),
              fmt(l.max),
            ],
      ),
    );
  }
}

const errors = lines.filter((l) => l.error);
if (errors.length) {
  p("### Errors");
  p();
  for (const e of errors)
    p(`- ${e.workload} / ${LABEL[e.driver] ?? e.driver} / ${JSON.stringify(e.params)}: \`${e.error}\``);
  p();
}
process.stdout.write(out.join("\n"));
