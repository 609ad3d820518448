import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

export default defineStep({
  workflow,
  run: async (ctx) => {
    ctx.log.info(`composing a greeting for ${ctx.input.name}`);
    return { text: `Hello, ${ctx.input.name}${ctx.input.excited ? "!" : "."}` };
  },
});
