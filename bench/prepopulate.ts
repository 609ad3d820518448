/** Fills the dataset cache ahead of a full run (the first population of 100,000 runs takes minutes): node --import tsx bench/prepopulate.ts [driver:count ...] */
import { finishedDataset } from "./populate.js";
async function main(): Promise<void> {
  const wanted = process.argv.slice(2).map((a) => a.split(":") as ["fs" | "sqlite" | "postgres", string]);
  const list = wanted.length
    ? wanted.map(([d, n]) => [d, Number(n)] as const)
    : ([
        ["sqlite", 100000],
        ["postgres", 100000],
      ] as const);
  for (const [d, n] of list) {
    const t0 = performance.now();
    const ds = await finishedDataset(d, n);
    console.log(
      d,
      n,
      "fromCache",
      ds.fromCache,
      "populateMs",
      Math.round(ds.populateMs),
      "restoreMs",
      Math.round(ds.restoreMs),
    );
    await ds.instance.destroy();
  }
}
main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
