import { defineStep } from "@cairn/worker";

export default defineStep({ exportOutput: true, run: async () => ({ ok: true }) });
