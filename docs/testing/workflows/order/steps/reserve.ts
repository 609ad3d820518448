import { defineStep } from "@cairn/worker";
import order from "../workflow.js";

export default defineStep({
  workflow: order,
  run: ({ input }) => ({ reserved: input.orderId }),
});
