import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

export default defineStep({ workflow, exportOutput: true, run: async () => ({ ok: true }) });
