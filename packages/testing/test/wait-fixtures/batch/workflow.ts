import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";

/** Polls an outside job until it is done (ready after `readyAfter` checks) or the poll times out. */
export default defineWorkflow({ name: "Batch", input: z.object({ readyAfter: z.number(), timeout: z.string() }) });
