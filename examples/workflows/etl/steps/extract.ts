import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

export default defineStep({
  workflow,
  retry: { attempts: 3, backoff: "exponential", delayMs: 200, maxDelayMs: 2000 },
  run: async (ctx) => {
    // A checkpoint: a retry of this step replays the fetched rows instead of fetching again.
    const rows = await ctx.checkpoint("fetch", () =>
      Array.from({ length: ctx.input.rows }, (_, i) => ({ id: i + 1, value: (i * 7) % 10, name: ` item ${i + 1} ` })),
    );
    ctx.progress(1, `extracted ${rows.length} rows`);
    return rows;
  },
});
