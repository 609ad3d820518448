import { readdir, readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { FileSystemBackend, FsLayout } from "../src/index.js";
import { freshStore, openFs } from "./fs-test-utils.js";
import { race, spawnChild } from "./fs-processes.js";
import { registerManual } from "../../../test-support/register.js";

const WF = "wf";
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function store(): Promise<{ dir: string; backend: FileSystemBackend }> {
  const s = await freshStore();
  cleanups.push(s.cleanup);
  await registerManual(s.backend, WF);
  return s;
}

async function liveRunWithStep(backend: FileSystemBackend, stepId: string): Promise<string> {
  const { runId } = await backend.submitRun({ workflowSlug: WF });
  await backend.startRun(WF, runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false });
  await backend.scheduleStep(WF, runId, stepId, { availableAt: 0, reason: "initial", attemptNumber: 1 });
  return runId;
}

describe("filesystem driver: several processes on one store", () => {
  it("exactly one of 8 processes claims a step", async () => {
    const { dir, backend } = await store();
    const runId = await liveRunWithStep(backend, "s");
    const results = await race(
      Array.from({ length: 8 }, (_, i) => ({
        dir,
        task: "claim",
        workflowSlug: WF,
        runId,
        stepId: "s",
        tag: String(i),
      })),
    );
    expect(results.filter((r) => r !== null)).toEqual([{ attemptNumber: 1 }]);
    const started = (await backend.loadEvents(WF, runId, { category: "step" })).filter((e) => e.type === "StepStarted");
    expect(started).toHaveLength(1);
    expect((await backend.getStepState(WF, runId, "s"))?.status).toBe("running");
  }, 60_000);

  it("concurrent submits with one idempotency key from 8 processes create exactly one run", async () => {
    const { dir, backend } = await store();
    const results = (await race(
      Array.from({ length: 8 }, () => ({ dir, task: "submit", workflowSlug: WF, key: "order-42", input: { n: 1 } })),
    )) as Array<{ runId: string; isNew: boolean }>;
    expect(results.filter((r) => r.isNew)).toHaveLength(1);
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    const runs = await backend.listRuns();
    expect(runs.map((r) => r.runId)).toEqual([results[0]!.runId]);
    // Losers left no trace: one live marker, one created entry, one run directory.
    const layout = new FsLayout(dir);
    expect(await readdir(layout.liveDir())).toHaveLength(1);
    expect(await readdir(layout.workflowRunsDir(WF))).toEqual([results[0]!.runId]);
    const entries = (await readdir(layout.createdDir(), { recursive: true, withFileTypes: true })).filter((e) =>
      e.isSymbolicLink(),
    );
    expect(entries).toHaveLength(1);
  }, 60_000);

  it("concurrent appends from 4 processes to one run lose nothing and leave a gapless sequence", async () => {
    const { dir, backend } = await store();
    const runId = await liveRunWithStep(backend, "s");
    await race(
      Array.from({ length: 4 }, (_, i) => ({
        dir,
        task: "append",
        workflowSlug: WF,
        runId,
        stepId: "s",
        count: 40,
        tag: `p${i}`,
      })),
    );
    const logs = (await backend.loadStepLogs(WF, runId, "s")) ?? [];
    expect(logs).toHaveLength(160);
    for (let p = 0; p < 4; p++) {
      // Each process's own appends keep their order.
      expect(logs.filter((l) => l.message.startsWith(`p${p}:`)).map((l) => l.message)).toEqual(
        Array.from({ length: 40 }, (_, i) => `p${p}:${i}`),
      );
    }
    const names = (await readdir(new FsLayout(dir).eventsDir({ workflowSlug: WF, runId }))).sort();
    expect(names).toEqual(names.map((_, i) => `${String(i).padStart(12, "0")}.json`));
    expect(backend.driver.corruptRecords).toEqual([]);
  }, 60_000);

  it("writers killed at random moments leave no damaged or half-published batch, and block nothing", async () => {
    const { dir, backend } = await store();
    const runId = await liveRunWithStep(backend, "s");
    const children = Array.from({ length: 3 }, (_, i) =>
      spawnChild({ dir, task: "append-forever", workflowSlug: WF, runId, stepId: "s", tag: `k${i}` }),
    );
    for (const c of children) c.result.catch(() => undefined);
    const eventsDir = new FsLayout(dir).eventsDir({ workflowSlug: WF, runId });
    // Let them get going (process start-up is slow on a busy machine), then kill them mid-flight.
    for (let waited = 0; (await readdir(eventsDir)).length < 60 && waited < 30_000; waited += 50)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
    for (const c of children) c.proc.kill("SIGKILL");
    await Promise.allSettled(children.map((c) => c.result));
    for (const name of await readdir(eventsDir)) JSON.parse(await readFile(`${eventsDir}/${name}`, "utf8"));
    // A fresh process claims the step at once: nothing the dead writers did holds it.
    const fresh = await openFs(dir, { durability: "none" });
    expect(
      await fresh.claimScheduledStep(WF, runId, "s", "survivor", { dependencies: [], timestamp: 0, attemptNumber: 0 }),
    ).toEqual({ attemptNumber: 1 });
    expect(fresh.driver.corruptRecords).toEqual([]);
  }, 60_000);
});
