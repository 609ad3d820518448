import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";

/** A zod input schema: a bad input fails the run with the failing field paths (`cairn run <id>` shows them). */
export default defineWorkflow({
  name: "Sign-up",
  input: z.object({
    email: z.email(),
    age: z.number().int().min(13),
    plan: z.enum(["free", "pro"]).default("free"),
    tags: z.array(z.string()).default([]),
  }),
});
