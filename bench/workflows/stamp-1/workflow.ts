import { defineWorkflow } from "@cairn/worker";

/** Benchmark: one step that records when it started (enqueue → start latency, bench/peers). */
export default defineWorkflow({
  name: "Stamp, 1 step",
  description: "Benchmark workflow: a single step that returns the wall-clock ms at which it started.",
});
