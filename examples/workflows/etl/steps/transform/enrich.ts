import { setTimeout as sleep } from "node:timers/promises";
import { defineStep } from "@cairn/worker";
import extract from "../extract.js";

export default defineStep({
  dependencies: { extract },
  run: async (ctx) => {
    await sleep(200, undefined, { signal: ctx.signal }); // stands in for real work, so the two branches visibly overlap
    return Object.fromEntries(
      ctx.deps.extract.map((r) => [r.id, { score: r.value * 10, bucket: r.value >= 5 ? "high" : "low" }]),
    );
  },
});
