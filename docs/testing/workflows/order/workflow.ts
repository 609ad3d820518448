import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";

export default defineWorkflow({
  name: "Order",
  input: z.object({ orderId: z.string(), amount: z.number().positive(), hang: z.boolean().default(false) }),
});
