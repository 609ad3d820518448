// A child process of the conformance suite. Reads commands as JSON lines from stdin and answers each with one JSON
// line on stdout: {op:"open", opener} opens the driver's storage through its opener (closing any previous backend),
// {op:"run", task, ...} runs a task and answers with its result, {op:"start", task, ...} starts a task that loops until
// the process is killed, {op:"close"} closes the backend, {op:"exit"} exits. Driven by support/processes.ts.
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { newEventId, type Backend, type StepRef } from "@cairn/backend-interface";

type Command =
  | { op: "open"; opener: { module: string; config: unknown } }
  | { op: "run" | "start"; task: string; [k: string]: unknown }
  | { op: "close" | "exit" };

let backend: Backend | null = null;
const send = (msg: unknown): void => {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
};
const open = (): Backend => {
  if (!backend) throw new Error("no backend open");
  return backend;
};
const meta = (b: Backend) => ({ dependencies: [], timestamp: b.clock.nowUs(), attemptNumber: 0 });

/** Claims every target at once; reports the ones won. */
async function claim(cmd: {
  targets: StepRef[];
  workerId: string;
}): Promise<Array<StepRef & { attemptNumber: number }>> {
  const b = open();
  const won: Array<StepRef & { attemptNumber: number }> = [];
  await Promise.all(
    cmd.targets.map(async (t) => {
      const r = await b.claimScheduledStep(t.workflowSlug, t.runId, t.stepId, cmd.workerId, meta(b));
      if (r) won.push({ ...t, attemptNumber: r.attemptNumber });
    }),
  );
  return won;
}

/** Claims and immediately retries the targets forever (until SIGKILLed): every moment is some claim's middle. */
async function claimLoop(cmd: { targets: StepRef[]; workerId: string }): Promise<never> {
  const b = open();
  for (;;) {
    for (const t of cmd.targets) {
      const r = await b.claimScheduledStep(t.workflowSlug, t.runId, t.stepId, cmd.workerId, meta(b));
      if (!r) continue;
      const now = b.clock.nowUs();
      await b
        .saveStepFailedAndScheduleRetry(
          t.workflowSlug,
          t.runId,
          t.stepId,
          { message: "loop" },
          { duration: 0, attemptNumber: r.attemptNumber, nextRetryAt: now, failureReason: "execution-error" },
          { availableAt: now, nextAttemptNumber: r.attemptNumber + 1, retryDelayMs: 0, maxRetries: 1_000_000 },
        )
        .catch(() => undefined);
    }
  }
}

/** Appends `count` LogEntry events one at a time, tagged. */
async function append(cmd: StepRef & { count: number; tag: string }): Promise<number> {
  const b = open();
  for (let i = 0; i < cmd.count; i++) {
    const ts = b.clock.nowUs();
    await b.appendEvent(cmd.workflowSlug, cmd.runId, {
      eventId: newEventId(ts),
      timestampUs: ts,
      workflowSlug: cmd.workflowSlug,
      runId: cmd.runId,
      category: "step",
      stepId: cmd.stepId,
      type: "LogEntry",
      stream: "stdout",
      message: `${cmd.tag}:${i}`,
      attemptNumber: 1,
    });
  }
  return cmd.count;
}

/** Appends `count` LogEntry events one at a time (each awaited), `tag:i` to run `runIds[i % runIds.length]`. */
async function appendAlternating(cmd: {
  workflowSlug: string;
  runIds: string[];
  stepId: string;
  count: number;
  tag: string;
}): Promise<number> {
  const b = open();
  for (let i = 0; i < cmd.count; i++) {
    const ts = b.clock.nowUs();
    const runId = cmd.runIds[i % cmd.runIds.length]!;
    await b.appendEvent(cmd.workflowSlug, runId, {
      eventId: newEventId(ts),
      timestampUs: ts,
      workflowSlug: cmd.workflowSlug,
      runId,
      category: "step",
      stepId: cmd.stepId,
      type: "LogEntry",
      stream: "stdout",
      message: `${cmd.tag}:${i}`,
      attemptNumber: 1,
    });
  }
  return cmd.count;
}

/** At `startAtMs`, adds `counters` to the run `count` times, one write each, on behalf of the step's attempt. */
async function increment(
  cmd: StepRef & { attemptNumber: number; counters: Record<string, number>; count: number; startAtMs?: number },
): Promise<number> {
  const b = open();
  await waitUntil(cmd.startAtMs);
  for (let i = 0; i < cmd.count; i++)
    await b.incrementRunCounters(cmd.workflowSlug, cmd.runId, cmd.stepId, cmd.attemptNumber, cmd.counters);
  return cmd.count;
}

/** Waits until the wall clock reaches `atMs`: a barrier for children that must act at the same moment. */
async function waitUntil(atMs: number | undefined): Promise<void> {
  const wait = (atMs ?? 0) - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/** The outcome of one write of a child: ok, or the error code it failed with (errors do not cross JSON). */
type Outcome = { ok: true } | { ok: false; code: string; message: string };
const failed = (e: unknown): Outcome => ({
  ok: false,
  code: String((e as { code?: unknown }).code ?? "UNKNOWN"),
  message: e instanceof Error ? e.message : String(e),
});

/** At `startAtMs`, completes every target's running attempt at once; reports each outcome in target order. */
async function completeAll(cmd: {
  targets: Array<StepRef & { attemptNumber: number; output: unknown; exportOutput?: boolean }>;
  startAtMs?: number;
}): Promise<Outcome[]> {
  const b = open();
  await waitUntil(cmd.startAtMs);
  return Promise.all(
    cmd.targets.map((t) =>
      b
        .saveStepComplete(
          t.workflowSlug,
          t.runId,
          t.stepId,
          t.output,
          { timestamp: b.clock.nowUs(), duration: 1, attemptNumber: t.attemptNumber, output: t.output },
          t.exportOutput ?? false,
        )
        .then((): Outcome => ({ ok: true }), failed),
    ),
  );
}

/** At `startAtMs`, cancels every run at once; reports each outcome in order. */
async function cancelAll(cmd: { runIds: string[]; reason?: string; startAtMs?: number }): Promise<Outcome[]> {
  const b = open();
  await waitUntil(cmd.startAtMs);
  return Promise.all(cmd.runIds.map((id) => b.cancelRun(id, cmd.reason).then((): Outcome => ({ ok: true }), failed)));
}

/** At `startAtMs`, submits the items in one submitRuns; per-item outcomes with errors reduced to their codes. */
async function submitBatch(cmd: {
  items: unknown[];
  startAtMs?: number;
}): Promise<Array<{ ok: true; runId: string; isNew: boolean } | { ok: false; code: string }>> {
  const b = open();
  await waitUntil(cmd.startAtMs);
  const outcomes = await b.submitRuns(cmd.items as never);
  return outcomes.map((o) => (o.ok ? o : { ok: false as const, code: o.error.code }));
}

/** From `startAtMs` to `untilMs` (or until `stopAfter` runs of the workflow ended): claims steps of the workflow (up to `limit` at once), holds each `holdMs`, completes it; runs the maintenance sweep when idle. Returns how many it completed. */
async function drain(cmd: {
  workflowSlug: string;
  workerId: string;
  startAtMs?: number;
  untilMs: number;
  holdMs: number;
  limit?: number;
  stopAfter?: number;
}): Promise<number> {
  const b = open();
  await waitUntil(cmd.startAtMs);
  let done = 0;
  let sweptAt = 0;
  while (Date.now() < cmd.untilMs) {
    const claimed = await b.claimScheduledSteps(cmd.workerId, {
      limit: cmd.limit ?? 2,
      workflowSlug: cmd.workflowSlug,
    });
    if (claimed.length === 0) {
      if (
        cmd.stopAfter !== undefined &&
        (
          await b.listRuns({
            workflowSlug: cmd.workflowSlug,
            status: ["completed", "cancelled", "failed"],
            limit: cmd.stopAfter,
          })
        ).length >= cmd.stopAfter
      )
        break;
      if (Date.now() - sweptAt > 200) {
        await b.startDueRuns();
        sweptAt = Date.now();
      }
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    await Promise.all(
      claimed.map(async (c) => {
        await new Promise((r) => setTimeout(r, cmd.holdMs));
        await b.saveStepComplete(
          c.workflowSlug,
          c.runId,
          c.stepId,
          null,
          { timestamp: b.clock.nowUs(), duration: 1, attemptNumber: c.attemptNumber, output: null },
          false,
        );
        done++;
      }),
    );
  }
  return done;
}

/** At `startAtMs`, submits the items one after the other; the run ids, or error codes, in order. */
async function submitEach(cmd: {
  items: unknown[];
  startAtMs?: number;
}): Promise<Array<{ ok: true; runId: string } | { ok: false; code: string }>> {
  const b = open();
  await waitUntil(cmd.startAtMs);
  const out: Array<{ ok: true; runId: string } | { ok: false; code: string }> = [];
  for (const item of cmd.items) {
    out.push(
      await b.submitRun(item as never).then(
        (r) => ({ ok: true as const, runId: r.runId }),
        (e) => ({ ok: false as const, code: String((e as { code?: unknown }).code) }),
      ),
    );
  }
  return out;
}

/** At `startAtMs`, `rounds` times: reads the cursor `key` (a count) and compare-and-sets it one higher; returns how many of its writes won. */
async function casLoop(cmd: { key: string; rounds: number; startAtMs?: number }): Promise<number> {
  const b = open();
  await waitUntil(cmd.startAtMs);
  let wins = 0;
  for (let i = 0; i < cmd.rounds; i++) {
    const cur = (await b.driver.readCursors([cmd.key]))[0];
    const next = { key: cmd.key, value: String((cur ? Number(cur.value) : 0) + 1), atUs: b.clock.nowUs() };
    if (await b.driver.compareAndSetCursor(cur?.value ?? null, next)) wins++;
  }
  return wins;
}

/** At `startAtMs`, sends every signal at once; reports each outcome in order. */
async function signalAll(cmd: {
  signals: Array<{ runId: string; name: string; payload: unknown; id?: string }>;
  startAtMs?: number;
}): Promise<Outcome[]> {
  const b = open();
  await waitUntil(cmd.startAtMs);
  return Promise.all(
    cmd.signals.map((g) =>
      b
        .signal(g.runId, g.name, g.payload, g.id === undefined ? {} : { id: g.id })
        .then((): Outcome => ({ ok: true }), failed),
    ),
  );
}

async function runTask(cmd: { task: string; [k: string]: unknown }): Promise<unknown> {
  switch (cmd.task) {
    case "claim":
      return claim(cmd as never);
    case "claim-loop":
      return claimLoop(cmd as never);
    case "claim-batch":
      return open().claimScheduledSteps(cmd.workerId as string, { limit: cmd.limit as number });
    case "submit":
      return open().submitRun(cmd.submission as never);
    case "reclaim":
      return open().reclaimStaleSteps(cmd.thresholdMs as number, cmd.reclaimedBy as string);
    case "append":
      return append(cmd as never);
    case "append-alternating":
      return appendAlternating(cmd as never);
    case "increment":
      return increment(cmd as never);
    case "complete":
      return completeAll(cmd as never);
    case "cancel":
      return cancelAll(cmd as never);
    case "submit-batch":
      return submitBatch(cmd as never);
    case "drain":
      return drain(cmd as never);
    case "submit-each":
      return submitEach(cmd as never);
    case "cas-cursor":
      return casLoop(cmd as never);
    case "emit":
      return waitUntil(cmd.startAtMs as number | undefined).then(() =>
        open().emit(cmd.event as string, cmd.payload, { id: cmd.id as string }),
      );
    case "tick-schedules":
      return waitUntil(cmd.startAtMs as number | undefined)
        .then(() => open().tickSchedules({ atUs: cmd.atUs as number }))
        .then((r) => ({ runs: r.runs, failed: r.failed.map((f) => ({ ...f, error: f.error.code })) }));
    case "signal":
      return signalAll(cmd as never);
    case "maintain":
      return waitUntil(cmd.startAtMs as number | undefined).then(() =>
        open().maintain({
          workerId: cmd.workerId as string,
          staleMs: cmd.staleMs as number,
          limit: cmd.limit as number,
        }),
      );
    default:
      throw new Error(`unknown task ${cmd.task}`);
  }
}

async function handle(cmd: Command): Promise<unknown> {
  switch (cmd.op) {
    case "open": {
      if (backend) await backend.close();
      backend = null;
      const mod = (await import(pathToFileURL(cmd.opener.module).href)) as {
        openBackend: (config: unknown) => Promise<Backend>;
      };
      backend = await mod.openBackend(cmd.opener.config);
      return "opened";
    }
    case "close":
      if (backend) await backend.close();
      backend = null;
      return "closed";
    case "run":
      return runTask(cmd);
    case "start":
      void runTask(cmd).catch(() => undefined);
      return "started";
    default:
      throw new Error(`unknown op ${(cmd as { op: string }).op}`);
  }
}

// Load the interface package now, so that `open` later costs only the driver's own modules.
send({ type: "ready" });
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as Command;
  if (cmd.op === "exit") break;
  try {
    send({ type: "result", result: await handle(cmd) });
  } catch (e) {
    send({ type: "error", message: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code });
  }
}
await (backend as Backend | null)?.close().catch(() => undefined);
process.exit(0);
