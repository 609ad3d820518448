import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";
import s4 from "./s4.js";

export default defineStep({
  workflow,
  dependencies: { s4 },
  exportOutput: true,
  run: async (ctx) => ({ n: ctx.deps.s4.n + 1 }),
});
