// A child process for the multi-process tests: prints "ready", waits for "go", runs its task, prints one JSON line.
import { createInterface } from "node:readline";
import { PostgresBackend } from "../src/index.js";

const [url, schema, task, arg] = process.argv.slice(2) as [string, string, "init" | "batch", string];
const backend = new PostgresBackend({ connectionString: url, schema, poolSize: 2 });
if (task !== "init") await backend.initialize();
process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
await lines.next();
let result: unknown;
if (task === "init") {
  await backend.initialize();
  result = "ok";
} else {
  const won: string[] = [];
  for (let idle = 0; idle < 3;) {
    const got = await backend.claimScheduledSteps(`w-${process.pid}`, { limit: Number(arg) });
    if (got.length === 0) idle++;
    for (const g of got) {
      won.push(`${g.runId}/${g.stepId}`);
      await backend.saveStepComplete(
        g.workflowSlug,
        g.runId,
        g.stepId,
        { by: process.pid },
        { timestamp: 0, duration: 1, attemptNumber: g.attemptNumber, output: null },
      );
    }
  }
  result = won;
}
process.stdout.write(`${JSON.stringify(result)}\n`);
await backend.close();
process.exit(0);
