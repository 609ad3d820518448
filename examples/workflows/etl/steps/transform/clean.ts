import { setTimeout as sleep } from "node:timers/promises";
import { defineStep } from "@cairn/worker";
import extract from "../extract.js";

export default defineStep({
  dependencies: { extract },
  run: async (ctx) => {
    await sleep(200, undefined, { signal: ctx.signal }); // stands in for real work, so the two branches visibly overlap
    return ctx.deps.extract.filter((r) => r.value > 0).map((r) => ({ ...r, name: r.name.trim() }));
  },
});
