import { defineWorkflow } from "@cairn/worker";

/** One step that counts its runs, sleeps ten minutes durably, and reads the run's state. */
export default defineWorkflow({ name: "Nap" });
