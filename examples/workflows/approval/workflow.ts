import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";

/**
 * An expense that waits for a person's approval: `request` asks once, then waits (holding no worker slot) for the
 * `approval` signal (`cairn signal <runId> approval --payload '{"approved":true,"by":"ann"}'`) for at most `timeout`;
 * `settle` pays or declines.
 */
export default defineWorkflow({
  name: "Approval",
  input: z.object({ amount: z.number().positive(), timeout: z.string().default("1h") }),
});
