import { lutimes, mkdir, readdir, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "@cairn/backend-interface";
import { FileSystemBackend, FsLayout } from "../src/index.js";
import { hashIdempotencyKey } from "../src/fs-submission.js";
import { freshStore, openFs } from "./fs-test-utils.js";
import { registerManual } from "../../../test-support/register.js";

const WF = "wf";
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function store(
  options: { orphanGraceMs?: number; clock?: ManualClock } = {},
): Promise<{ dir: string; backend: FileSystemBackend; layout: FsLayout }> {
  const s = await freshStore(options);
  cleanups.push(s.cleanup);
  await registerManual(s.backend, WF, "one", "two");
  return { ...s, layout: new FsLayout(s.dir) };
}

async function finishedRun(b: FileSystemBackend, i: number): Promise<string> {
  const { runId } = await b.submitRun({ workflowSlug: WF, input: i });
  await b.startRun(WF, runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: true });
  await b.scheduleStep(WF, runId, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
  await b.claimScheduledStep(WF, runId, "s", "w", { dependencies: [], timestamp: 0, attemptNumber: 0 });
  await b.saveStepComplete(WF, runId, "s", i, { timestamp: 0, duration: 1, attemptNumber: 1, output: i });
  await b.saveWorkflowComplete(WF, runId, i, { workflowAttemptNumber: 1, timestamp: 0, duration: 1, totalSteps: 1 });
  return runId;
}

describe("filesystem driver: indexes are hints, verified and repaired", () => {
  it("keeps a live marker exactly for non-terminal runs, including a failed run reopened by a retry", async () => {
    const { backend: b, layout } = await store();
    const done = await finishedRun(b, 1);
    const { runId: live } = await b.submitRun({ workflowSlug: WF });
    expect(await readdir(layout.liveDir())).toEqual([`${WF}~${live}`]);
    await b.saveWorkflowFailed(
      WF,
      live,
      { message: "x" },
      { workflowAttemptNumber: 1, duration: 0, completedSteps: 0 },
      "step-failed",
    );
    expect(await readdir(layout.liveDir())).toEqual([]);
    await b.saveWorkflowRetryStarted(WF, live, {
      workflowAttemptNumber: 2,
      previousAttemptNumber: 1,
      retriedSteps: [],
    });
    expect(await readdir(layout.liveDir())).toEqual([`${WF}~${live}`]);
    expect(await b.listActiveWorkflows()).toEqual([WF]);
    expect((await b.listRuns({ status: ["pending"] })).map((r) => r.runId)).toEqual([live]);
    expect((await b.listRuns({ status: ["completed"] })).map((r) => r.runId)).toEqual([done]);
  });

  it("removes the stale marker of an ended run (a crash between the append and the index update)", async () => {
    const { backend: b, layout } = await store();
    const runId = await finishedRun(b, 1);
    await symlink(layout.runIndexTarget({ workflowSlug: WF, runId }), layout.liveFile({ workflowSlug: WF, runId }));
    const cold = await openFs(layout.root, { durability: "none" });
    expect(await cold.listActiveWorkflows()).toEqual([]);
    expect(await readdir(layout.liveDir())).toEqual([]);
  });

  it("removes entries of a submission that died before committing, once older than the grace period", async () => {
    const { backend: b, layout } = await store({ orphanGraceMs: 1000 });
    const ghost = { workflowSlug: WF, runId: "ghost" };
    await b.submitRun({ workflowSlug: WF, runId: "real" });
    await symlink(layout.runIndexTarget(ghost), layout.liveFile(ghost));
    const created = layout.createdFile(ghost, 1);
    await mkdir(dirname(created), { recursive: true });
    await writeFile(created, "");
    expect((await b.listRuns()).map((r) => r.runId)).toEqual(["real"]);
    expect(await readdir(layout.liveDir())).toHaveLength(2); // young: maybe still in flight, kept
    const old = new Date(Date.now() - 10_000);
    await utimes(created, old, old);
    await lutimes(layout.liveFile(ghost), old, old);
    expect((await b.listRuns()).map((r) => r.runId)).toEqual(["real"]);
    expect(await b.listScheduledSteps()).toEqual([]);
    expect(await readdir(layout.liveDir())).toEqual([`${WF}~real`]);
    expect(await readdir(dirname(created))).toEqual([]);
  });

  it("completes a keyed submission whose process died after claiming the key (roll forward)", async () => {
    const { backend: b, layout } = await store();
    // Make a real keyed submission, then undo its last step (the publication of batch 0) as a crash would.
    const { runId } = await b.submitRun({ workflowSlug: WF, idempotencyKey: "k", input: { x: 1 } });
    const a = { workflowSlug: WF, runId };
    await unlink(layout.batchFile(a, 0));
    const cold = await openFs(layout.root, { durability: "none" });
    expect(await cold.listActiveWorkflows()).toEqual([WF]); // a reader verifying the live marker completes it
    expect((await cold.getRun(runId))?.input).toBe(JSON.stringify({ x: 1 }));
    await unlink(layout.batchFile(a, 0));
    expect((await (await openFs(layout.root, { durability: "none" })).getRun(runId))?.status).toBe("pending"); // so does getRun
    await unlink(layout.batchFile(a, 0));
    const cold2 = await openFs(layout.root, { durability: "none" });
    expect(await cold2.submitRun({ workflowSlug: WF, idempotencyKey: "k", input: { x: 1 } })).toEqual({
      runId,
      isNew: false,
    });
    expect((await cold2.loadEvents(WF, runId)).map((e) => e.type)).toEqual(["RunSubmitted"]);
    expect(await readdir(layout.liveDir())).toEqual([`${WF}~${runId}`]);
    expect(await readdir(`${layout.root}/idempotency/${WF}`)).toEqual([`${hashIdempotencyKey("k")}.json`]);
  });

  it("keeps run ids unique across workflows and getRun O(1) through the run-id index", async () => {
    const { backend: b, layout } = await store();
    await b.submitRun({ workflowSlug: "one", runId: "r1", input: 1 });
    expect(await b.submitRun({ workflowSlug: "two", runId: "r1", input: 1 })).toEqual({ runId: "r1", isNew: false });
    await expect(b.submitRun({ workflowSlug: "two", runId: "r1", input: 2 })).rejects.toMatchObject({
      code: "IDEMPOTENCY_CONFLICT",
    });
    expect((await b.getRun("r1"))?.workflowSlug).toBe("one");
    expect(await readdir(`${layout.root}/runs`)).toEqual(["one"]);
  });

  it("polling queries read only live runs: a cold process answers fast beside 2,000 finished runs", async () => {
    const clock = new ManualClock();
    const { backend: b, layout } = await store({ clock });
    for (let i = 0; i < 2000; i++) {
      await finishedRun(b, i);
      clock.advanceUs(1);
    }
    const live: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { runId } = await b.submitRun({ workflowSlug: WF });
      await b.scheduleStep(WF, runId, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
      live.push(runId);
      clock.advanceUs(1);
    }
    const cold = await openFs(layout.root, { durability: "none", clock });
    const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
      const t0 = performance.now();
      const r = await fn();
      return [r, performance.now() - t0];
    };
    const [scheduled, tScheduled] = await timed(() => cold.listScheduledSteps());
    expect(scheduled.map((s) => s.runId).sort()).toEqual([...live].sort());
    const [, tReclaim] = await timed(() => cold.reclaimStaleSteps(1000, "reaper"));
    const [recent, tRuns] = await timed(() => cold.listRuns({ limit: 20 }));
    expect(recent.map((r) => r.runId).slice(0, 10)).toEqual([...live].reverse());
    expect(recent).toHaveLength(20);
    const [, tDepth] = await timed(() => cold.listRuns({ limit: 20, status: ["completed"] }));
    // Generous bounds for a shared CI machine; the benchmark measures the real numbers.
    expect(tScheduled).toBeLessThan(200);
    expect(tReclaim).toBeLessThan(200);
    expect(tRuns).toBeLessThan(300);
    expect(tDepth).toBeLessThan(300);
  }, 120_000);
});
