import { defineWorkflow } from "@cairn/worker";

/** A step that fails transiently (its first two attempts) and then succeeds on retry. */
export default defineWorkflow({ name: "Flaky" });
