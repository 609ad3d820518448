import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryBackend, MEMORY_SNAPSHOT_VERSION } from "../src/index.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cairn-memory-"));
  dirs.push(dir);
  return dir;
}

async function open(snapshotFile: string): Promise<MemoryBackend> {
  const b = new MemoryBackend({ snapshotFile });
  await b.initialize();
  return b;
}

const STEPS = [
  { id: "a", name: "A" },
  { id: "b", name: "B", dependencies: ["a"], exportOutput: true },
];

describe("memory driver: the JSON snapshot", () => {
  it("keeps the feed's commit order and cursors across close and open (runs interleaved), and numbers new events after them", async () => {
    const file = join(await tempDir(), "store.json");
    const first = await open(file);
    await first.registerWorkflow({ slug: "wf", name: "wf", steps: [] });
    const a = (await first.submitRun({ workflowSlug: "wf" })).runId;
    const b = (await first.submitRun({ workflowSlug: "wf" })).runId;
    await first.cancelRun(a);
    const feed = (await first.readFeed({ limit: 100 })).entries;
    expect(feed.map((e) => [e.event.runId, e.event.type])).toEqual([
      [a, "RunSubmitted"],
      [b, "RunSubmitted"],
      [a, "WorkflowCancelled"],
    ]);
    await first.close();

    const second = await open(file);
    expect((await second.readFeed({ limit: 100 })).entries).toEqual(feed);
    expect((await second.readFeed({ after: feed[0]!.cursor, limit: 100 })).entries).toEqual(feed.slice(1));
    await second.cancelRun(b);
    const next = (await second.readFeed({ after: feed[2]!.cursor, limit: 100 })).entries;
    expect(next.map((e) => [e.event.runId, e.event.type])).toEqual([[b, "WorkflowCancelled"]]);
    await second.close();
  });

  it("keeps runs, events, steps, registrations and versions across close and open, and the store still drives runs", async () => {
    const file = join(await tempDir(), "nested", "store.json");
    const first = await open(file);
    await first.createWorkflowVersion({ workflowSlug: "wf", versionId: "v1", contentHash: "h1", steps: STEPS });
    await first.registerWorkflow({ slug: "wf", name: "wf", versionId: "v1", steps: STEPS });
    const { runId } = await first.submitRun({ workflowSlug: "wf", input: { n: 1 }, idempotencyKey: "k1" });
    const [a] = await first.claimSteps("w1", { limit: 1, workflows: { wf: { a: [], b: ["a"] } } });
    await first.saveStepComplete(
      "wf",
      runId,
      "a",
      { x: 1 },
      { timestamp: 0, duration: 5, attemptNumber: a!.attemptNumber, output: { x: 1 } },
    );
    const before = {
      events: await first.loadEvents("wf", runId),
      steps: await first.loadRun("wf", runId),
      run: await first.getRun(runId),
    };
    await first.close();

    const second = await open(file);
    expect(await second.loadEvents("wf", runId)).toEqual(before.events);
    expect(await second.loadRun("wf", runId)).toEqual(before.steps);
    expect(await second.getRun(runId)).toEqual(before.run);
    expect((await second.getWorkflowVersion("wf", "v1"))?.contentHash).toBe("h1");
    // The idempotency key index is rebuilt from the events.
    expect(await second.submitRun({ workflowSlug: "wf", input: { n: 1 }, idempotencyKey: "k1" })).toEqual({
      runId,
      isNew: false,
    });
    // The reopened store advances the run: b was scheduled before the snapshot; completing it completes the run.
    const [b] = await second.claimSteps("w2", { limit: 1, workflows: { wf: { a: [], b: ["a"] } } });
    expect(b?.stepId).toBe("b");
    expect(b?.dependencyOutputs).toEqual({ a: JSON.stringify({ x: 1 }) });
    await second.saveStepComplete(
      "wf",
      runId,
      "b",
      "done",
      { timestamp: 0, duration: 5, attemptNumber: b!.attemptNumber, output: "done" },
      true,
    );
    expect((await second.getRun(runId))?.status).toBe("completed");
    await second.close();
  });

  it("keeps a schedule's last-tick cursor across close and open, so a reopened store does not start the tick again", async () => {
    const file = join(await tempDir(), "store.json");
    const clockAt = (iso: string) => ({ nowUs: () => Date.parse(iso) * 1000 });
    const first = new MemoryBackend({ snapshotFile: file, clock: clockAt("2026-01-01T00:05:30Z") });
    await first.initialize();
    await first.registerWorkflow({
      slug: "wf",
      name: "wf",
      steps: [],
      schedule: { cron: ["*/5 * * * *"], backfillMs: 3_600_000 },
    });
    expect((await first.tickSchedules()).runs.map((r) => r.isNew)).toEqual(Array(12).fill(true));
    await first.close();
    const second = new MemoryBackend({ snapshotFile: file, clock: clockAt("2026-01-01T00:06:00Z") });
    await second.initialize();
    expect((await second.listSchedules())[0]?.lastTickUs).toBe(Date.parse("2026-01-01T00:05:00Z") * 1000);
    expect((await second.tickSchedules()).runs).toEqual([]);
    await second.close();
  });

  it("starts empty when the file does not exist, and writes nothing until close", async () => {
    const file = join(await tempDir(), "store.json");
    const b = await open(file);
    expect(await b.listRuns()).toEqual([]);
    await expect(readFile(file, "utf8")).rejects.toMatchObject({ code: "ENOENT" });
    await b.close();
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({
      format: "cairn-memory-snapshot",
      version: MEMORY_SNAPSHOT_VERSION,
      runs: [],
    });
  });

  it("refuses a file that is not a snapshot (NOT_A_CAIRN_STORE), a newer one (SCHEMA_TOO_NEW), and a damaged event (NOT_A_CAIRN_STORE)", async () => {
    const dir = await tempDir();
    const cases: Array<[string, string]> = [
      ["not json {", "NOT_A_CAIRN_STORE"],
      [JSON.stringify({ hello: "world" }), "NOT_A_CAIRN_STORE"],
      [
        JSON.stringify({
          format: "cairn-memory-snapshot",
          version: MEMORY_SNAPSHOT_VERSION + 1,
          runs: [],
          workflows: [],
          versions: [],
          presences: [],
        }),
        "SCHEMA_TOO_NEW",
      ],
      [
        JSON.stringify({
          format: "cairn-memory-snapshot",
          version: 1,
          runs: [{ workflowSlug: "wf", runId: "r1", events: [{ type: "Nope" }] }],
          workflows: [],
          versions: [],
          presences: [],
        }),
        "NOT_A_CAIRN_STORE",
      ],
    ];
    for (const [i, [text, code]] of cases.entries()) {
      const file = join(dir, `bad-${i}.json`);
      await writeFile(file, text);
      await expect(new MemoryBackend({ snapshotFile: file }).initialize()).rejects.toMatchObject({ code });
      expect(await readFile(file, "utf8")).toBe(text); // left as it was
    }
  });

  it("says STORE_NOT_WRITABLE at open when the snapshot could not be written (a file where its directory should be)", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "blocker"), "x");
    for (const file of [join(dir, "blocker", "store.json"), join(dir, "blocker", "deeper", "store.json")]) {
      await expect(new MemoryBackend({ snapshotFile: file }).initialize()).rejects.toMatchObject({
        code: "STORE_NOT_WRITABLE",
      });
    }
  });

  it("two backends given one name share one store in the process; unnamed ones are private", async () => {
    const a = new MemoryBackend({ name: "shared-test" });
    const b = new MemoryBackend({ name: "shared-test" });
    const c = new MemoryBackend();
    await Promise.all([a.initialize(), b.initialize(), c.initialize()]);
    await a.registerWorkflow({ slug: "wf", name: "wf", steps: [] });
    const { runId } = await a.submitRun({ workflowSlug: "wf" });
    expect((await b.getRun(runId))?.runId).toBe(runId);
    expect(await c.getRun(runId)).toBeNull();
    // The store lives while a backend on it is open; after the last close, the name starts afresh.
    await a.close();
    expect((await b.getRun(runId))?.runId).toBe(runId);
    await b.close();
    const d = new MemoryBackend({ name: "shared-test" });
    await d.initialize();
    expect(await d.getRun(runId)).toBeNull();
    await Promise.all([c.close(), d.close()]);
  });
});
