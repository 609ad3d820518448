import { defineStep } from "@cairn/worker";
import extract from "../extract.js";

export default defineStep({
  dependencies: { extract },
  run: async (ctx) => Object.fromEntries(ctx.deps.extract.map((r) => [r.id, { score: r.value * 10, bucket: r.value >= 5 ? "high" : "low" }])),
});
