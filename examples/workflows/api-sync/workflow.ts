import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";

/**
 * A sync that reads an API page by page, writes the records it finds, and summarises the batch with an AI call: every
 * request is a tracked call, every record written is linked, and the run counts fetched, inserted and updated records.
 * `cairn run <id>` shows the calls, links, counters and AI usage; `cairn runs --entity charge:ch_0001` finds the run.
 */
export default defineWorkflow({
  name: "API sync",
  description: "Syncs charges from a (simulated) payments API, tracking calls, links, counters and AI usage.",
  input: z.object({
    pages: z.number().int().min(1).max(50).default(3),
    pageSize: z.number().int().min(1).max(100).default(10),
  }),
});
