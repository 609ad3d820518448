import { defineStep } from "@cairn/worker";
import clean from "./transform/clean.js";
import enrich from "./transform/enrich.js";

export default defineStep({
  dependencies: { "transform/clean": clean, "transform/enrich": enrich },
  exportOutput: true,
  timeoutMs: 10_000,
  run: async (ctx) => {
    const rows = ctx.deps["transform/clean"].map((r) => ({ ...r, ...ctx.deps["transform/enrich"][r.id] }));
    ctx.log.info(`loading ${rows.length} rows`);
    return { loaded: rows.length, high: rows.filter((r) => r.bucket === "high").length };
  },
});
