import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";

/**
 * A scheduled workflow: every day at 06:00 in Paris, one run (however many workers run), its input the tick's time.
 * After an outage only the latest tick missed is started; add `backfill: "2d"` to catch up every tick missed in the
 * last 2 days instead. `cairn schedules` shows the last and next tick.
 */
export default defineWorkflow({
  name: "Nightly report",
  description: "Summarises the previous day, each morning.",
  schedule: "0 6 * * *",
  timezone: "Europe/Paris",
  input: z.object({ scheduledAt: z.iso.datetime() }),
});
