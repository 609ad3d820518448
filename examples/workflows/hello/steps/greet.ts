import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";
import compose from "./compose.js";

export default defineStep({
  workflow,
  dependencies: { compose },
  exportOutput: true,
  run: async (ctx) => ({ greeting: ctx.deps.compose.text, length: ctx.deps.compose.text.length }),
});
