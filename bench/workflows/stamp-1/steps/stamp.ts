import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

/** Sub-millisecond wall clock, comparable across processes on one machine. */
export default defineStep({
  workflow,
  exportOutput: true,
  run: async () => ({ startedAtMs: performance.timeOrigin + performance.now() }),
});
