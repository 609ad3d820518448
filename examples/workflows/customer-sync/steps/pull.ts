import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

export default defineStep({
  workflow,
  exportOutput: true,
  run: async (ctx) => {
    ctx.log.info(
      `pulling changes of customer ${ctx.input.customerId}${ctx.input.since ? ` since ${ctx.input.since}` : ""}`,
    );
    await new Promise((r) => setTimeout(r, 50));
    return { customerId: ctx.input.customerId, pulledAt: new Date().toISOString() };
  },
});
