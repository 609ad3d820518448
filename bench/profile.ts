/**
 * Runs one workload loop for a while so it can be profiled:
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile.ts <driver> <lifecycle|claims> [seconds] [inFlight]
 *   node --import tsx bench/cpuprofile-top.ts /tmp/prof/<file>.cpuprofile
 */
import { createDriver, type DriverName } from "./drivers.js";
import { oneLife } from "./lifecycle.js";
import { claimCompleteRate, prepareScheduled } from "./claims.js";
import { throughput } from "./stats.js";
import { registerManual } from "../test-support/register.js";

async function main(): Promise<void> {
  const [driver = "fs-none", what = "lifecycle", secs = "5", inFlight = "4"] = process.argv.slice(2);
  const inst = await createDriver(driver as DriverName);
  try {
    await registerManual(inst.backend, "ingest-orders");
    if (what === "lifecycle") {
      let n = 0;
      const r = await throughput(Number(inFlight), Number(secs) * 1000, 1e9, async (loop) => {
        await oneLife(inst.backend, n++, `w${loop}`);
        return 1;
      });
      console.log(`${driver} lifecycle ${inFlight} in flight: ${r.perSecond.toFixed(1)} runs/s (${r.units} runs)`);
    } else {
      const refs = await prepareScheduled(inst.backend, 3000);
      const rate = await claimCompleteRate(inst.backend, refs, Number(inFlight), Number(secs) * 1000, 0);
      console.log(`${driver} claim→complete ${inFlight} claimers: ${rate.toFixed(1)} steps/s`);
    }
  } finally {
    await inst.destroy();
  }
}
main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
