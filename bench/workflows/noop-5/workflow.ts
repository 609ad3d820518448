import { defineWorkflow } from "@cairn/worker";

/** Benchmark: five no-op steps in a chain (s1 → s2 → s3 → s4 → s5). */
export default defineWorkflow({
  name: "No-op, 5 steps",
  description: "Benchmark workflow: a chain of five steps that return at once.",
});
