import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

/** The answer of an approver, as the signal's payload carries it. */
export interface Decision {
  approved: boolean;
  by?: string;
}

export default defineStep({
  workflow,
  run: async (ctx) => {
    // Replayed when the step runs again after the wait: the request is sent once.
    await ctx.checkpoint("ask", () => {
      ctx.log.info(`approval requested for ${ctx.input.amount}`);
      return true;
    });
    const decision = await ctx.waitForEvent<Decision>("approval", { timeout: ctx.input.timeout });
    return decision === null
      ? { approved: false, timedOut: true }
      : { approved: decision.approved === true, by: decision.by ?? null, timedOut: false };
  },
});
