import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteBackend } from "../src/index.js";
import { registerManual } from "../../../test-support/register.js";

describe("SQLite: a submission reads its workflow's pause inside its write", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function open(file: string): Promise<SqliteBackend> {
    const b = new SqliteBackend(file);
    await b.initialize();
    cleanups.push(() => b.close());
    return b;
  }

  it("reports the mark another backend wrote after this one's registration was cached, for one and many submissions", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cairn-sqlite-pause-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "cairn.db");
    const pauser = await open(file);
    const submitter = await open(file);
    await registerManual(pauser, "wf");
    await submitter.submitRun({ workflowSlug: "wf", input: {} }); // the submitter's cache: not paused
    const reported: unknown[] = [];
    const driver = submitter.driver as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    for (const name of ["writeSubmission", "writeSubmissions"]) {
      const write = driver[name]!;
      driver[name] = async (...args: unknown[]) => {
        const result = await write.apply(submitter.driver, args);
        reported.push(result);
        return result;
      };
    }
    await pauser.pauseWorkflow("wf");
    const { runId } = await submitter.submitRun({ workflowSlug: "wf", input: {} });
    const [many] = await submitter.submitRuns([{ workflowSlug: "wf", input: { n: 2 } }]);
    if (!many?.ok) throw new Error("the batch item was refused");
    expect(reported).toEqual([
      { created: true, runId, workflowPaused: true },
      [{ created: true, runId: many.runId, workflowPaused: true }],
    ]);
    for (const id of [runId, many.runId])
      expect((await pauser.getRun(id))?.paused).toMatchObject({ scope: "workflow" });
  });
});
