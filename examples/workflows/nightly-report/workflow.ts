import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";

/**
 * A scheduled workflow: every day at 06:00 in Paris, one run (however many workers run), its input the tick's time.
 * A tick missed in the last 6 hours (all workers down) is caught up (`backfill`). `cairn schedules` shows the last
 * and next tick.
 */
export default defineWorkflow({
  name: "Nightly report",
  description: "Summarises the previous day, each morning.",
  schedule: "0 6 * * *",
  timezone: "Europe/Paris",
  backfill: "6h",
  input: z.object({ scheduledAt: z.iso.datetime() }),
});
