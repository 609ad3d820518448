import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

export default defineStep({
  workflow,
  run: async (ctx) => ({ accountId: `acct_${ctx.input.email.split("@")[0]}`, plan: ctx.input.plan }),
});
