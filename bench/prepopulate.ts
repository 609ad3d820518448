/** Fills the dataset cache ahead of a full run (the first population of 100,000 runs takes minutes): node --import tsx bench/prepopulate.ts */
import { finishedDataset } from "./populate.js";
async function main(): Promise<void> {
for (const [d, n] of [["sqlite", 100000], ["postgres", 100000], ["sqlite", 10000]] as const) {
  const t0 = performance.now();
  const ds = await finishedDataset(d, n);
  console.log(d, n, "fromCache", ds.fromCache, "populateMs", Math.round(ds.populateMs), "restoreMs", Math.round(ds.restoreMs));
  await ds.instance.destroy();
}
}
main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
