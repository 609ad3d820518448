import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

export default defineStep({
  workflow,
  exportOutput: true,
  run: async (ctx) => {
    const day = new Date(Date.parse(ctx.input.scheduledAt) - 86_400_000).toISOString().slice(0, 10);
    ctx.log.info(`summarising ${day} (tick of ${ctx.input.scheduledAt})`);
    return { day, report: `report-${day}` };
  },
});
