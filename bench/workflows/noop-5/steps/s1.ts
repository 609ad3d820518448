import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

export default defineStep({ workflow, run: async () => ({ n: 1 }) });
