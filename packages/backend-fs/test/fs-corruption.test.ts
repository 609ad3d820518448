import { appendFile, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CorruptRecordError } from "@cairn/backend-interface";
import { FileSystemBackend, FsLayout } from "../src/index.js";
import { corruptLastStepBatch, freshStore, openFs } from "./fs-test-utils.js";
import { registerManual } from "../../../test-support/register.js";

const WF = "wf";
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  vi.restoreAllMocks();
});

async function runWithLogs(backend: FileSystemBackend): Promise<string> {
  await registerManual(backend, WF);
  const { runId } = await backend.submitRun({ workflowSlug: WF, input: { a: 1 } });
  await backend.startRun(WF, runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: true });
  await backend.scheduleStep(WF, runId, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
  for (const m of ["one", "two", "three"])
    await backend.saveStepLogs(WF, runId, "s", [{ timestampUs: 0, stream: "stdout", message: m, attemptNumber: 1 }]);
  return runId;
}

describe("filesystem driver: damaged files", () => {
  it("reports a truncated batch with its path once (list, listener, console) and reads the rest of the run and other runs", async () => {
    const seen: CorruptRecordError[] = [];
    const s = await freshStore({ onCorrupt: (e) => seen.push(e), warnOnCorrupt: true });
    cleanups.push(s.cleanup);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const victim = await runWithLogs(s.backend);
    const other = await runWithLogs(s.backend);
    const path = await corruptLastStepBatch(s.dir, WF, victim);
    // A second process (cold cache) reads the damaged store.
    const reader = await openFs(s.dir, { durability: "none", onCorrupt: (e) => seen.push(e) });
    const logs = await reader.loadStepLogs(WF, victim, "s");
    expect(logs?.map((l) => l.message)).toEqual(["one", "two"]);
    expect((await reader.getRun(victim))?.status).toBe("running");
    expect((await reader.loadStepLogs(WF, other, "s"))?.map((l) => l.message)).toEqual(["one", "two", "three"]);
    await reader.listScheduledSteps();
    await reader.loadEvents(WF, victim);
    expect(reader.driver.corruptRecords.map((e) => e.context.path)).toEqual([path]);
    expect(reader.driver.corruptRecords[0]?.code).toBe("CORRUPT_RECORD");
    expect(seen.map((e) => e.context.path)).toEqual([path]);
    expect(warn.mock.calls.filter((c) => String(c[0]).includes(path))).toHaveLength(1);
    // Appends go on after the damaged batch.
    await reader.saveStepLogs(WF, victim, "s", [
      { timestampUs: 0, stream: "stdout", message: "four", attemptNumber: 1 },
    ]);
    expect((await s.backend.loadStepLogs(WF, victim, "s"))?.map((l) => l.message)).toEqual(["one", "two", "four"]);
  });

  it("skips batches with invalid JSON, a wrong schema, another run's events, or an empty file", async () => {
    const s = await freshStore();
    cleanups.push(s.cleanup);
    const runId = await runWithLogs(s.backend);
    const other = await runWithLogs(s.backend);
    const layout = new FsLayout(s.dir);
    const a = { workflowSlug: WF, runId };
    const foreign = await readFile(layout.batchFile({ workflowSlug: WF, runId: other }, 3), "utf8");
    await writeFile(layout.batchFile(a, 3), "{not json");
    await writeFile(layout.batchFile(a, 4), JSON.stringify([{ type: "StepNonsense" }]));
    await writeFile(layout.batchFile(a, 5), foreign);
    await writeFile(layout.batchFile(a, 6), "");
    const reader = await openFs(s.dir, { durability: "none", warnOnCorrupt: false });
    const events = await reader.loadEvents(WF, runId);
    expect(events.map((e) => e.type)).toEqual(["RunSubmitted", "WorkflowStarted", "StepScheduled"]);
    expect(reader.driver.corruptRecords.map((e) => e.context.path).sort()).toEqual(
      [3, 4, 5, 6].map((n) => layout.batchFile(a, n)).sort(),
    );
    expect((await reader.getStepState(WF, runId, "s"))?.status).toBe("scheduled");
  });

  it("reports a damaged workflow registration or version and keeps listing the others", async () => {
    const s = await freshStore();
    cleanups.push(s.cleanup);
    await s.backend.registerWorkflow({ slug: "good", name: "Good", steps: [] });
    await s.backend.registerWorkflow({ slug: "bad", name: "Bad", steps: [] });
    await s.backend.createWorkflowVersion({ workflowSlug: "good", versionId: "v1", contentHash: "h", steps: [] });
    await s.backend.createWorkflowVersion({ workflowSlug: "good", versionId: "v2", contentHash: "h2", steps: [] });
    const layout = new FsLayout(s.dir);
    await appendFile(layout.workflowFile("bad"), "garbage");
    await writeFile(layout.versionFile("good", "v1"), JSON.stringify({ versionId: 3 }));
    expect((await s.backend.listWorkflowMetadata()).map((m) => m.slug)).toEqual(["good"]);
    expect(await s.backend.getWorkflowMetadata("bad")).toBeNull();
    expect((await s.backend.listWorkflowVersions("good")).map((v) => v.versionId)).toEqual(["v2"]);
    expect(s.backend.driver.corruptRecords.map((e) => e.context.path).sort()).toEqual(
      [layout.versionFile("good", "v1"), layout.workflowFile("bad")].sort(),
    );
  });

  it("reports a missing batch in the middle of a run and still reads the batches after it", async () => {
    const s = await freshStore();
    cleanups.push(s.cleanup);
    const runId = await runWithLogs(s.backend);
    const layout = new FsLayout(s.dir);
    await rm(layout.batchFile({ workflowSlug: WF, runId }, 4));
    const reader = await openFs(s.dir, { durability: "none", warnOnCorrupt: false });
    expect((await reader.loadStepLogs(WF, runId, "s"))?.map((l) => l.message)).toEqual(["one", "three"]);
    expect(reader.driver.corruptRecords.map((e) => e.context.path)).toEqual([
      layout.batchFile({ workflowSlug: WF, runId }, 4),
    ]);
    await reader.saveStepLogs(WF, runId, "s", [
      { timestampUs: 0, stream: "stdout", message: "four", attemptNumber: 1 },
    ]);
    expect((await readdir(layout.eventsDir({ workflowSlug: WF, runId }))).sort().at(-1)).toBe("000000000006.json");
  });
});
