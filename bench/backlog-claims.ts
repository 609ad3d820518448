/**
 * A claim of one workflow while another workflow has a backlog of ready steps ahead of it in claim order (submitted
 * earlier, so available earlier): what a worker pays per claim when other workers serve the backlog.
 * `node -C @cairn/source --import tsx bench/backlog-claims.ts [sqlite,postgres] [backlog] [samples]`.
 * For each driver and for a backlog of 0 and of `backlog` runs of `noop-5` (one ready step each): `samples` times,
 * submit one `stamp-1` run and claim it with the scope { stamp-1 }, timing the claim call. One JSON line per case.
 */
import { discoverWorkflows, registerWorkflows } from "@cairn/worker";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDriver, type DriverName } from "./drivers.js";
import { percentile, round } from "./stats.js";

const WORKFLOWS = join(dirname(fileURLToPath(import.meta.url)), "workflows");
const [driversArg = "sqlite,postgres", backlogArg = "5000", samplesArg = "200"] = process.argv.slice(2);
const SCOPE = { "stamp-1": { stamp: [] } };

async function measure(driver: DriverName, backlog: number, samples: number): Promise<Record<string, unknown>> {
  const inst = await createDriver(driver);
  try {
    const { backend } = inst;
    await registerWorkflows(backend, (await discoverWorkflows(WORKFLOWS)).workflows);
    if (backlog > 0) {
      const out = await backend.submitRuns(
        Array.from({ length: backlog }, (_, i) => ({ workflowSlug: "noop-5", input: { i } })),
      );
      if (out.some((o) => !o.ok)) throw new Error("a backlog item was refused");
    }
    const ms: number[] = [];
    for (let i = 0; i < samples; i++) {
      await backend.submitRun({ workflowSlug: "stamp-1", input: { i } });
      const t0 = performance.now();
      const claimed = await backend.claimScheduledSteps("bench", { limit: 10, workflows: SCOPE });
      ms.push(performance.now() - t0);
      if (claimed.length !== 1) throw new Error(`claimed ${claimed.length} steps, expected the one stamp-1 step`);
    }
    return {
      driver,
      backlog,
      samples,
      claimP50Ms: round(percentile(ms, 50), 3),
      claimP90Ms: round(percentile(ms, 90), 3),
    };
  } finally {
    await inst.destroy();
  }
}

for (const driver of driversArg.split(",") as DriverName[]) {
  for (const backlog of [0, Number(backlogArg)])
    console.log(
      JSON.stringify({ workload: "backlog-claims", ...(await measure(driver, backlog, Number(samplesArg))) }),
    );
}
process.exit(0);
