import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";

/**
 * Syncs one customer's records. Runs of the same customer never overlap (one at a time, in submission order);
 * different customers sync in parallel. The store enforces it, however many workers run.
 */
export default defineWorkflow({
  name: "Customer sync",
  description: "Pulls a customer's changes; serialized per customer.",
  input: z.object({ customerId: z.string().min(1), since: z.string().optional() }),
  concurrency: { limit: 1, key: "customerId" },
});
