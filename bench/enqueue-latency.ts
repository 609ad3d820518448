/**
 * Enqueue → start latency with one idle `cairn worker` process, N samples per driver, p50/p99 on stderr and one
 * JSON line per driver on stdout. `node --import tsx bench/enqueue-latency.ts [--drivers sqlite,fs-none] [--samples 100]`.
 * The same measurement as the `worker-latency` workload (StepStarted.timestampUs − submit time, one run at a time,
 * random 20–220 ms gaps), with a sample count that can be raised for p99.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { systemClock } from "@cairn/backend-interface";
import { createDriver, type DriverName } from "./drivers.js";
import { percentile, sleep } from "./stats.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CAIRN = join(ROOT, "packages/worker/bin/cairn.js");
const WORKFLOWS = join(ROOT, "bench/workflows");

const { values: args } = parseArgs({
  options: { drivers: { type: "string", default: "sqlite,fs-none" }, samples: { type: "string", default: "100" } },
});

async function measure(driver: DriverName, samples: number): Promise<number[]> {
  const inst = await createDriver(driver);
  const child = spawn(
    process.execPath,
    [
      "--conditions=@cairn/source",
      CAIRN,
      "worker",
      "--workflows",
      WORKFLOWS,
      "--backend",
      inst.url,
      "--concurrency",
      "4",
      "--json",
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const started = new Promise<void>((resolve) =>
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes('"worker:started"')) resolve();
    }),
  );
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  try {
    await started;
    await sleep(1000);
    const lat: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = systemClock.nowUs();
      const { runId } = await inst.backend.submitRun({ workflowSlug: "noop-1", input: { i } });
      const deadline = performance.now() + 15_000;
      let started: number | undefined;
      while (started === undefined) {
        if (performance.now() > deadline)
          throw new Error(`run ${runId} never started; worker output: ${out.slice(-400)}`);
        await sleep(5);
        started = (await inst.backend.loadEvents("noop-1", runId, { category: "step" })).find(
          (e) => e.type === "StepStarted",
        )?.timestampUs;
      }
      lat.push((started - t0) / 1000);
      await sleep(20 + Math.random() * 200);
    }
    return lat;
  } finally {
    child.kill("SIGTERM");
    await exited;
    await inst.destroy();
  }
}

for (const driver of args.drivers!.split(",") as DriverName[]) {
  const lat = await measure(driver, Number(args.samples));
  const r = (n: number) => Math.round(n * 100) / 100;
  process.stderr.write(
    `${driver}: n=${lat.length} p50=${r(percentile(lat, 50))} ms p90=${r(percentile(lat, 90))} ms p99=${r(percentile(lat, 99))} ms max=${r(Math.max(...lat))} ms\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ workload: "enqueue-to-start", driver, samples: lat.length, p50: percentile(lat, 50), p90: percentile(lat, 90), p99: percentile(lat, 99), max: Math.max(...lat) })}\n`,
  );
}
process.exit(0);
