import { defineStep, Skip } from "@cairn/worker";
import workflow from "../workflow.js";

export default defineStep({
  workflow,
  run: async (ctx) => {
    if (!ctx.input.notify) throw new Skip("notifications are off for this run");
    return { sent: true };
  },
});
