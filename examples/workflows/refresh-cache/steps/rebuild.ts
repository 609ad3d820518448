import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

export default defineStep({
  workflow,
  exportOutput: true,
  run: async (ctx) => {
    ctx.log.info("rebuilding the cache");
    await new Promise((r) => setTimeout(r, 200));
    return { rebuiltAt: new Date().toISOString() };
  },
});
