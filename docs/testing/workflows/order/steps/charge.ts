import { defineStep } from "@cairn/worker";
import order from "../workflow.js";
import reserve from "./reserve.js";

export default defineStep({
  workflow: order,
  dependencies: { reserve },
  retry: { attempts: 3, delayMs: 1000 },
  timeoutMs: 30_000,
  run: async ({ input, env, signal }) => {
    // A card network that never answers: the step waits until its timeout aborts it.
    if (input.hang) await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    return `${input.amount} ${env.CURRENCY ?? "USD"}`;
  },
});
