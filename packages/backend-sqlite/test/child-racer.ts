// A child process for the multi-process tests: opens the shared database, prints "ready", waits for "go" on stdin,
// then races (claims every target, or submits with one idempotency key) and prints its result as one JSON line.
import { createInterface } from "node:readline";
import { openBackend } from "../src/open-backend.js";

const [filename, task, arg] = process.argv.slice(2) as [string, "claim" | "batch" | "submit", string];
const backend = await openBackend({ filename });
process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
await lines.next();
const meta = { dependencies: [], timestamp: 0, attemptNumber: 0 };
let result: unknown;
if (task === "claim") {
  const targets = JSON.parse(arg) as Array<{ workflowSlug: string; runId: string; stepId: string }>;
  const won = await Promise.all(
    targets.map((t) => backend.claimScheduledStep(t.workflowSlug, t.runId, t.stepId, `w-${process.pid}`, meta)),
  );
  result = targets.filter((_, i) => won[i] !== null).map((t) => t.runId);
} else if (task === "batch") {
  const won: string[] = [];
  for (;;) {
    const got = await backend.claimScheduledSteps(`w-${process.pid}`, { limit: 3 });
    if (got.length === 0) break;
    won.push(...got.map((g) => g.runId));
  }
  result = won;
} else {
  // Registered by every racer (the parent leaves the database to the children, which migrate it as they race).
  await backend.registerWorkflow({ slug: "wf", name: "wf", steps: [] });
  result = await Promise.all(
    Array.from({ length: 5 }, () =>
      backend.submitRun({ workflowSlug: "wf", idempotencyKey: arg, input: { same: true } }),
    ),
  );
}
process.stdout.write(`${JSON.stringify(result)}\n`);
await backend.close();
process.exit(0);
