// A child process on a shared store, for the driver's multi-process tests. Usage: node --import tsx fs-child.ts '<json>'
import { openBackend } from "../../src/open-backend.js";

interface Task {
  dir: string;
  task: "append" | "claim" | "submit" | "append-forever";
  workflowSlug: string;
  runId?: string;
  stepId?: string;
  count?: number;
  key?: string;
  input?: unknown;
  startAtMs?: number;
  tag?: string;
}

const t = JSON.parse(process.argv[2] ?? "{}") as Task;
const backend = await openBackend({ dir: t.dir, durability: "none" });
// Line up the racers: all start at the same wall-clock instant.
while (t.startAtMs !== undefined && Date.now() < t.startAtMs) await new Promise((r) => setTimeout(r, 1));
let result: unknown;
if (t.task === "append" || t.task === "append-forever") {
  const n = t.task === "append" ? (t.count ?? 1) : Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    await backend.saveStepLogs(t.workflowSlug, t.runId!, t.stepId!, [
      { timestampUs: 0, stream: "stdout", message: `${t.tag}:${i}`, attemptNumber: 1 },
    ]);
  }
  result = n;
} else if (t.task === "claim") {
  result = await backend.claimScheduledStep(t.workflowSlug, t.runId!, t.stepId!, `worker-${t.tag}`, {
    dependencies: [],
    timestamp: 0,
    attemptNumber: 0,
  });
} else {
  result = await backend.submitRun({ workflowSlug: t.workflowSlug, idempotencyKey: t.key, input: t.input });
}
process.stdout.write(`${JSON.stringify(result)}\n`);
await backend.close();
