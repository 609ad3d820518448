import { defineStep } from "@cairn/worker";

const shared = globalThis as unknown as { __cairnNapWork?: number };

export default defineStep({
  exportOutput: true,
  run: async (ctx) => {
    // Done once: replayed from its checkpoint on the attempt after the sleep.
    const before = await ctx.checkpoint("before", () => (shared.__cairnNapWork = (shared.__cairnNapWork ?? 0) + 1));
    await ctx.sleep("rest", "10m");
    return { before, work: shared.__cairnNapWork, state: ctx.state };
  },
});
