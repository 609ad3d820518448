// Submitting and following runs lives in @cairn/client; re-exported here for the CLI's imports.
export { submit, describeRun, waitForRun, type SubmitOptions, type RunDetails } from "@cairn/client";
