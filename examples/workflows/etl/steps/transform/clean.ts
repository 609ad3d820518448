import { defineStep } from "@cairn/worker";
import extract from "../extract.js";

export default defineStep({
  dependencies: { extract },
  run: async (ctx) => ctx.deps.extract.filter((r) => r.value > 0).map((r) => ({ ...r, name: r.name.trim() })),
});
