import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";
import createAccount from "./create-account.js";

export default defineStep({
  workflow,
  dependencies: { "create-account": createAccount },
  exportOutput: true,
  run: async (ctx) => ({
    to: ctx.input.email,
    subject: `Welcome to the ${ctx.deps["create-account"].plan} plan`,
    accountId: ctx.deps["create-account"].accountId,
  }),
});
