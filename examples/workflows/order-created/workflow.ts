import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";

/**
 * An event-triggered workflow: `cairn emit order.created --payload '{"orderId":42,"total":19.5}'` (or the client's
 * `emit`) starts one run of it with the payload as input; the same `--id` again starts nothing new.
 */
export default defineWorkflow({
  name: "Order created",
  description: "Reserves stock and sends a confirmation when an order is created.",
  on: ["order.created"],
  input: z.object({ orderId: z.number().int(), total: z.number().nonnegative() }),
});
