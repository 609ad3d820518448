// A child process of the conformance suite: opens the driver's storage through its opener and runs commands read as
// JSON lines from stdin, answering each with one JSON line on stdout. Started by support/processes.ts.
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { newEventId, type Backend, type StepRef } from "@cairn/backend-interface";

interface Args {
  opener: { module: string; config: unknown };
  task: "claim" | "claim-loop" | "submit" | "reclaim" | "append";
  index: number;
}

const args = JSON.parse(process.argv[2] ?? "{}") as Args;
const send = (msg: unknown): void => {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
};

const mod = (await import(pathToFileURL(args.opener.module).href)) as { openBackend: (config: unknown) => Promise<Backend> };
const backend = await mod.openBackend(args.opener.config);
const meta = () => ({ dependencies: [], timestamp: backend.clock.nowUs(), attemptNumber: 0 });

/** Claims each target once; reports the ones won. */
async function claim(cmd: { targets: StepRef[]; workerId: string }): Promise<Array<StepRef & { attemptNumber: number }>> {
  const won: Array<StepRef & { attemptNumber: number }> = [];
  await Promise.all(cmd.targets.map(async (t) => {
    const r = await backend.claimScheduledStep(t.workflowSlug, t.runId, t.stepId, cmd.workerId, meta());
    if (r) won.push({ ...t, attemptNumber: r.attemptNumber });
  }));
  return won;
}

/** Claims and immediately retries the targets forever (until SIGKILLed): every moment is some claim's middle. */
async function claimLoop(cmd: { targets: StepRef[]; workerId: string }): Promise<never> {
  for (;;) {
    for (const t of cmd.targets) {
      const r = await backend.claimScheduledStep(t.workflowSlug, t.runId, t.stepId, cmd.workerId, meta());
      if (!r) continue;
      const now = backend.clock.nowUs();
      await backend.saveStepFailedAndScheduleRetry(t.workflowSlug, t.runId, t.stepId, { message: "loop" },
        { duration: 0, attemptNumber: r.attemptNumber, nextRetryAt: now, failureReason: "execution-error" },
        { availableAt: now, nextAttemptNumber: r.attemptNumber + 1, retryDelayMs: 0, maxRetries: 1_000_000 }).catch(() => undefined);
    }
  }
}

/** Appends `count` LogEntry events, one at a time, tagged with this child's tag. */
async function append(cmd: StepRef & { count: number; tag: string }): Promise<number> {
  for (let i = 0; i < cmd.count; i++) {
    const ts = backend.clock.nowUs();
    await backend.appendEvent(cmd.workflowSlug, cmd.runId, {
      eventId: newEventId(ts), timestampUs: ts, workflowSlug: cmd.workflowSlug, runId: cmd.runId, category: "step", stepId: cmd.stepId,
      type: "LogEntry", stream: "stdout", message: `${cmd.tag}:${i}`, attemptNumber: 1,
    });
  }
  return cmd.count;
}

async function run(cmd: Record<string, unknown>): Promise<unknown> {
  switch (args.task) {
    case "claim": return claim(cmd as never);
    case "claim-loop": return claimLoop(cmd as never);
    case "submit": return backend.submitRun(cmd.submission as never);
    case "reclaim": return backend.reclaimStaleSteps(cmd.thresholdMs as number, cmd.reclaimedBy as string);
    case "append": return append(cmd as never);
  }
}

send({ type: "ready" });
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as Record<string, unknown>;
  if (cmd.exit) break;
  if (args.task === "claim-loop") {
    send({ type: "result", result: "started" });
    void run(cmd).catch((e: unknown) => send({ type: "error", message: String(e) }));
    continue;
  }
  try {
    send({ type: "result", result: await run(cmd) });
  } catch (e) {
    send({ type: "error", message: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code });
  }
}
await backend.close();
process.exit(0);
