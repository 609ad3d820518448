import { defineWorkflow } from "@cairn/worker";

/**
 * Benchmark: noop-1 under a per-key concurrency limit that never binds (the bench gives every run its own key, as a
 * per-customer serialization with many customers), so the drain measures what admission and slot release cost.
 */
export default defineWorkflow({
  name: "No-op, 1 step, gated",
  description: "Benchmark workflow: noop-1 under a concurrency declaration that never binds.",
  concurrency: { limit: 1, key: "k" },
});
