/**
 * A queue-triggered function (AWS Lambda, Cloud Run job, Azure Functions, ...): every invocation runs ready steps until
 * nothing is ready or its time is up, and leaves nothing running behind it. The backend and the workflows are opened
 * once per cold start and reused by warm invocations.
 *
 *   CAIRN_BACKEND=sqlite:./.cairn/cairn.db CAIRN_WORKFLOWS=examples/workflows node --import tsx examples/serverless/queue-handler.ts
 *
 * (in this repository add --conditions=@cairn/source, to run the sources). Run directly, it is one invocation: it
 * prints what it did as JSON and exits.
 */
import { pathToFileURL } from "node:url";
import { discoverWorkflows, formatProblems, handleOne, openBackend, type HandleOneResult } from "@cairn/worker";

const backend = await openBackend(process.env.CAIRN_BACKEND ?? "sqlite:./.cairn/cairn.db");
const { workflows, problems } = await discoverWorkflows(process.env.CAIRN_WORKFLOWS ?? "examples/workflows");
if (problems.length) console.error(formatProblems(problems));

/** The platform's handler: `context` says how much time the invocation has left. */
export async function handler(
  _message: unknown,
  context: { getRemainingTimeInMillis(): number },
): Promise<HandleOneResult> {
  // Keep half a second for the platform; handleOne keeps its own reserve to write the results of released steps.
  return handleOne({
    backend,
    workflows,
    deadlineMs: Math.max(1, context.getRemainingTimeInMillis() - 500),
    concurrency: 4,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const budgetMs = Number(process.env.CAIRN_DEADLINE_MS ?? 10_000);
  const startedMs = Date.now();
  const result = await handler(null, { getRemainingTimeInMillis: () => budgetMs - (Date.now() - startedMs) });
  console.log(JSON.stringify(result));
  await backend.close();
}
