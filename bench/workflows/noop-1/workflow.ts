import { defineWorkflow } from "@cairn/worker";

/** Benchmark: one no-op step. */
export default defineWorkflow({
  name: "No-op, 1 step",
  description: "Benchmark workflow: a single step that returns at once.",
});
