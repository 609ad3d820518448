import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

export default defineStep({
  workflow,
  run: async (ctx) => {
    ctx.log.info(`reserving stock for order ${ctx.input.orderId}`);
    return { reservation: `res-${ctx.input.orderId}` };
  },
});
