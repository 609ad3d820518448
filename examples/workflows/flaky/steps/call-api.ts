import { defineStep } from "@cairn/worker";

export default defineStep({
  exportOutput: true,
  retry: { attempts: 4, backoff: "exponential", delayMs: 100, maxDelayMs: 1000, jitter: true },
  run: async (ctx) => {
    if (ctx.attempt < 3) throw new Error(`upstream returned 503 (attempt ${ctx.attempt})`);
    return { status: 200, attempt: ctx.attempt };
  },
});
