import { openFs } from "./fs-test-utils.js";
import { execFileSync } from "node:child_process";
import { lstat, mkdtemp, readdir, readlink, rm, stat, symlink, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileSystemBackend, FsLayout } from "../src/index.js";
import { registerManual } from "../../../test-support/register.js";

const WF = "wf";
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "cairn-fs-portable-"));
  dirs.push(d);
  return d;
}

/** Every symlink under `dir` with its target. */
async function symlinksUnder(dir: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const name of await readdir(dir, { recursive: true })) {
    const p = join(dir, name);
    const st = await lstat(p);
    if (st.isSymbolicLink()) out.push([p, await readlink(p)]);
  }
  return out;
}

describe("filesystem driver: a store is relocatable", () => {
  it("reads everything back after `cp -a` to a new path and removal of the original", async () => {
    const parent = await tempDir();
    const original = join(parent, "original");
    const b = await openFs(original, { durability: "none", warnOnCorrupt: false });
    await b.initialize();
    await b.registerWorkflow({ slug: WF, name: "W", steps: [] });
    const finished = (await b.submitRun({ workflowSlug: WF, input: 1 })).runId;
    await b.startRun(WF, finished, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: true });
    await b.scheduleStep(WF, finished, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
    await b.claimScheduledStep(WF, finished, "s", "w", { dependencies: [], timestamp: 0, attemptNumber: 0 });
    await b.saveStepComplete(WF, finished, "s", 1, { timestamp: 0, duration: 1, attemptNumber: 1, output: 1 });
    await b.saveWorkflowComplete(WF, finished, 1, {
      workflowAttemptNumber: 1,
      timestamp: 0,
      duration: 1,
      totalSteps: 1,
    });
    const keyed = (await b.submitRun({ workflowSlug: WF, input: 2, idempotencyKey: "k" })).runId;
    const scheduled = (await b.submitRun({ workflowSlug: WF, input: 3 })).runId;
    await b.scheduleStep(WF, scheduled, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });

    const links = await symlinksUnder(original);
    expect(links.length).toBeGreaterThan(0);
    for (const [, target] of links) expect(target.startsWith("/")).toBe(false);

    const moved = join(parent, "elsewhere", "moved");
    execFileSync("mkdir", ["-p", join(parent, "elsewhere")]);
    execFileSync("cp", ["-a", original, moved]);
    await rm(original, { recursive: true, force: true });

    const c = await openFs(moved, { durability: "none", warnOnCorrupt: false });
    await c.initialize();
    for (const id of [finished, keyed, scheduled]) expect((await c.getRun(id))?.runId).toBe(id);
    expect((await c.getRun(finished))?.status).toBe("completed");
    expect((await c.listRuns({})).map((r) => r.runId).sort()).toEqual([finished, keyed, scheduled].sort());
    expect((await c.listRuns({ status: ["pending"] })).map((r) => r.runId).sort()).toEqual([keyed, scheduled].sort());
    expect((await c.listScheduledSteps()).map((s) => s.runId)).toEqual([scheduled]);
    expect(await c.listActiveWorkflows()).toEqual([WF]);
    expect((await c.loadEvents(WF, finished)).map((e) => e.type)).toContain("WorkflowCompleted");
    expect(await c.submitRun({ workflowSlug: WF, input: 2, idempotencyKey: "k" })).toEqual({
      runId: keyed,
      isNew: false,
    });
    expect((await c.getWorkflowMetadata(WF))?.name).toBe("W");
    expect(await c.listRunIds(WF)).toEqual([finished, keyed, scheduled].sort());
    expect(c.driver.corruptRecords).toEqual([]);
  });

  it("still reads run-index entries written with absolute targets", async () => {
    const dir = await tempDir();
    const b = await openFs(dir, { durability: "none", warnOnCorrupt: false });
    await registerManual(b, WF);
    const { runId } = await b.submitRun({ workflowSlug: WF, input: 1 });
    const layout = new FsLayout(dir);
    const entry = layout.runIndexFile(runId);
    await unlink(entry);
    await symlink(join("/some/old/place", "runs", WF, runId), entry);
    expect((await (await openFs(dir, { durability: "none" })).getRun(runId))?.runId).toBe(runId);
    expect((await stat(layout.eventsDir({ workflowSlug: WF, runId }))).isDirectory()).toBe(true);
  });
});
