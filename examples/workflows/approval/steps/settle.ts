import { defineStep } from "@cairn/worker";
import request from "./request.js";

export default defineStep({
  dependencies: { request },
  exportOutput: true,
  run: async (ctx) => ({
    paid: ctx.deps.request.approved,
    reason: ctx.deps.request.timedOut ? "no answer in time" : `decided by ${ctx.deps.request.by ?? "someone"}`,
  }),
});
