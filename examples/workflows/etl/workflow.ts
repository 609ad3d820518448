import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";

/** Extract → two parallel transforms → load. Nested step ids: transform/clean, transform/enrich. */
export default defineWorkflow({
  name: "ETL",
  input: z.object({ rows: z.number().int().min(1).max(10_000).default(20) }),
});
