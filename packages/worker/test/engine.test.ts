import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Backend } from "@cairn/backend-interface";
import { openBackend, startWorker, submit, waitForRun, type WorkerEvent, type WorkerHandle } from "../src/index.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/engine/", import.meta.url));

describe("engine (library API, in-process worker, real SQLite)", () => {
  let dir = "";
  let backend: Backend;
  let worker: WorkerHandle;
  const events: WorkerEvent[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-engine-"));
    backend = await openBackend(`sqlite:${join(dir, "cairn.db")}`);
    events.length = 0;
    worker = await startWorker({
      backend,
      workflowsDir: FIXTURES,
      concurrency: 2,
      heartbeatMs: 100,
      staleMs: 1000,
      pollMs: 20,
      abortGraceMs: 200,
      random: () => 1,
      onEvent: (e) => events.push(e),
    });
    expect(worker.problems).toEqual([]);
  });
  afterEach(async () => {
    await worker.stop({ urgent: true });
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a step past its timeout is aborted, retried per its policy, then fails the run with reason timeout", async () => {
    const { runId } = await submit(backend, { workflow: "timeouts", input: { ms: 5000 } });
    const { run, steps } = await waitForRun(backend, runId, { pollMs: 20 });
    expect(run.status).toBe("failed");
    expect(run.failedStep).toBe("sleepy");
    expect(steps[0]).toMatchObject({ status: "failed", attemptNumber: 2, failureReason: "timeout" });
    const failures = (await backend.loadEvents("timeouts", runId, { category: "step" })).filter(
      (e) => e.type === "StepFailed",
    );
    expect(failures.map((e) => e.type === "StepFailed" && [e.terminal, e.failureReason])).toEqual([
      [false, "timeout"],
      [true, "timeout"],
    ]);
  });

  it("a run past its own timeout fails with reason timeout", async () => {
    const { runId } = await submit(backend, { workflow: "timeouts", input: { ms: 100 }, timeoutMs: 1 });
    const { run } = await waitForRun(backend, runId, { pollMs: 20 });
    expect(run.status).toBe("failed");
    expect(run.failureReason).toBe("timeout");
  });

  it("a retry replays saved checkpoints instead of redoing their work; progress is logged", async () => {
    const counter = join(dir, "counter");
    const { runId } = await submit(backend, { workflow: "checkpoints", input: { counter } });
    const { run } = await waitForRun(backend, runId, { pollMs: 20 });
    expect(run.status).toBe("completed");
    expect(JSON.parse(run.output!)).toEqual({ work: { chargeId: "ch_1", attempt: 2 } });
    expect(await readFile(counter, "utf8")).toBe("charge\n");
    const logs = (await backend.loadStepLogs("checkpoints", runId, "work")) ?? [];
    expect(logs.map((l) => l.message)).toContain("[progress] 1/2 (50%) charged");
    expect(events.some((e) => e.type === "step:progress" && e.fraction === 0.5)).toBe(true);
    expect(events.some((e) => e.type === "step:retry" && e.message === "mail server down")).toBe(true);
  });

  it("a submit to a workflow no worker registered says how to fix it", async () => {
    await expect(submit(backend, { workflow: "nope" })).rejects.toThrow(/not registered\. Start a worker/);
    await expect(submit(backend, { workflow: "nope" })).rejects.toMatchObject({ code: "WORKFLOW_NOT_FOUND" });
  });

  it("an input the registered JSON Schema rejects is refused at submit with every field; no run is created", async () => {
    const err = await submit(backend, { workflow: "refined", input: { from: "a" } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INVALID_INPUT" });
    expect((err as { validationErrors: Array<{ path: string }> }).validationErrors.map((e) => e.path).sort()).toEqual([
      "from",
      "to",
    ]);
    expect(await backend.listRuns({ workflowSlug: "refined" })).toEqual([]);
  });

  it("what JSON Schema cannot express (a zod refinement) passes submit and fails the run with the worker's field paths", async () => {
    const { runId } = await submit(backend, { workflow: "refined", input: { from: 5, to: 1 } });
    const { run } = await waitForRun(backend, runId, { pollMs: 20 });
    expect(run.status).toBe("failed");
    expect(run.inputValidation?.validationErrors?.map((e) => e.path)).toEqual(["to"]);
    const ok = await submit(backend, { workflow: "refined", input: { from: 1, to: 5 } });
    expect(JSON.parse((await waitForRun(backend, ok.runId, { pollMs: 20 })).run.output!)).toEqual({ span: 4 });
  });
});
