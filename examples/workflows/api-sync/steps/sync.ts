import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";

/** A stand-in for a payments API: page `page` of charges, the ids stable so a rerun updates rather than inserts. */
async function listCharges(
  page: number,
  pageSize: number,
): Promise<{ data: Array<{ id: string; amount: number }>; hasMore: boolean }> {
  const data = Array.from({ length: pageSize }, (_, i) => ({
    id: `ch_${String((page - 1) * pageSize + i + 1).padStart(4, "0")}`,
    amount: 100 * (i + 1),
  }));
  return { data, hasMore: true };
}

/** A stand-in for an LLM: a summary and the token counts it reports. */
async function summarize(
  text: string,
): Promise<{ text: string; model: string; usage: { inputTokens: number; outputTokens: number } }> {
  return {
    text: `Summary of ${text.length} characters`,
    model: "demo-model",
    usage: { inputTokens: Math.ceil(text.length / 4), outputTokens: 12 },
  };
}

/** A stand-in for the database: which charges exist already. */
const known = new Set<string>();

export default defineStep({
  workflow,
  run: async (ctx) => {
    const { pages, pageSize } = ctx.input;
    let amount = 0;
    for (let page = 1; page <= pages; page++) {
      // Each page is a child step: a retry of the sync replays the pages already written (their totals come back) and
      // goes on from the first page that did not finish.
      amount += await ctx.step(`page-${page}`, async (p) => {
        const charges = await p.call({ tool: "payments_api", operation: "GET /charges" }, () =>
          listCharges(page, pageSize),
        );
        p.increment({ fetched: charges.data.length });
        let pageAmount = 0;
        for (const charge of charges.data) {
          const existed = known.has(charge.id);
          known.add(charge.id);
          pageAmount += charge.amount;
          p.increment(existed ? { updated: 1 } : { inserted: 1 });
          p.link({
            linkType: existed ? "updated" : "output",
            entityType: "charge",
            entityId: charge.id,
            externalId: `stripe_${charge.id}`,
          });
        }
        return pageAmount;
      });
      ctx.progress(
        {
          itemsTotal: pages * pageSize,
          itemsProcessed: page * pageSize,
          itemsSucceeded: page * pageSize,
          itemsFailed: 0,
        },
        `page ${page}`,
      );
    }
    const summary = await ctx.call(
      {
        tool: "llm",
        operation: "summarize",
        usage: (r) => ({
          model: r.model,
          ...r.usage,
          costUsd: (r.usage.inputTokens * 2.5 + r.usage.outputTokens * 10) / 1e6,
        }),
      },
      () => summarize(`${pages * pageSize} charges totalling ${amount}`),
    );
    return { charges: pages * pageSize, amount, summary: summary.text };
  },
});
