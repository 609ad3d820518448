import { defineStep } from "@cairn/worker";
import notify from "./notify.js";

export default defineStep({
  dependencies: { notify },
  exportOutput: true,
  run: async (ctx) => ({ audited: ctx.deps.notify.sent }),
});
