import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";

/** The smallest workflow: one input field, two steps. */
export default defineWorkflow({
  name: "Hello",
  description: "Greets someone by name.",
  input: z.object({ name: z.string().min(1), excited: z.boolean().default(false) }),
});
