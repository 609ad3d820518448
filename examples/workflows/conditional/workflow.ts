import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";

/** `notify` skips itself unless asked to, and `audit` (which needs it) is cascade-skipped; `report` still runs. */
export default defineWorkflow({ name: "Conditional", input: z.object({ notify: z.boolean().default(false) }) });
