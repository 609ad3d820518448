import { defineStep } from "@cairn/worker";
import charge from "./charge.js";

export default defineStep({
  dependencies: { charge },
  exportOutput: true,
  run: ({ deps }) => ({ charged: deps.charge }),
});
