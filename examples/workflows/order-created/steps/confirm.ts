import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";
import reserve from "./reserve.js";

export default defineStep({
  workflow,
  dependencies: { reserve },
  exportOutput: true,
  run: async (ctx) => ({ orderId: ctx.input.orderId, reservation: ctx.deps.reserve.reservation, confirmed: true }),
});
