import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

const shared = globalThis as unknown as { __cairnBatchChecks?: number };

export default defineStep({
  workflow,
  exportOutput: true,
  run: async (ctx) =>
    ctx.poll("job", { every: "1m", timeout: ctx.input.timeout }, () => {
      const checks = (shared.__cairnBatchChecks = (shared.__cairnBatchChecks ?? 0) + 1);
      return checks >= ctx.input.readyAfter ? { checks } : null;
    }),
});
