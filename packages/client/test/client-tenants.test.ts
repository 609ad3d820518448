import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type WorkerHandle } from "@cairn/worker";
import { createClient, type CairnClient } from "../src/index.js";
import helloWorkflow from "../../../examples/workflows/hello/workflow.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/workflows/", import.meta.url));

/** Rejects with a CairnError of this code. */
async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toMatchObject({ code });
}

describe("@cairn/client with the tenant option, on a real SQLite file with a worker", () => {
  let dir = "";
  let admin: CairnClient;
  let acme: CairnClient;
  let globex: CairnClient;
  let worker: WorkerHandle;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-client-tenants-"));
    admin = createClient({ backend: "sqlite:./store.db", cwd: dir, pollMs: 20 });
    const backend = await admin.backend();
    acme = createClient({ backend, tenant: "acme", pollMs: 20 });
    globex = createClient({ backend, tenant: "globex", pollMs: 20 });
    worker = await startWorker({ backend, workflowsDir: EXAMPLES, pollMs: 20 });
  });
  afterAll(async () => {
    await worker?.stop();
    await admin?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a tenant's runs are stamped, run by the worker and visible to that tenant only", async () => {
    const { runId } = await acme.submit(helloWorkflow, { name: "Ada" });
    const run = await acme.wait(runId);
    expect(run).toMatchObject({
      status: "completed",
      tenantId: "acme",
      output: { greet: { greeting: "Hello, Ada.", length: 11 } },
    });
    expect((await acme.steps(runId)).length).toBeGreaterThan(0);
    expect((await acme.list()).map((r) => r.runId)).toContain(runId);
    expect((await admin.get(runId))?.tenantId).toBe("acme");

    expect(await globex.get(runId)).toBeNull();
    expect((await globex.list()).map((r) => r.runId)).not.toContain(runId);
    await expectCode(globex.wait(runId), "RUN_NOT_FOUND");
    await expectCode(globex.steps(runId), "RUN_NOT_FOUND");
    await expectCode(globex.calls(runId), "RUN_NOT_FOUND");
    await expectCode(globex.usage(runId), "RUN_NOT_FOUND");
    await expectCode(globex.rerun(runId, { from: "compose" }), "RUN_NOT_FOUND");
  });

  it("refuses to cancel another tenant's run, and cancels its own", async () => {
    const later = { availableAt: new Date(Date.now() + 3_600_000) };
    const [a, g] = await acme.submitMany([
      { workflow: helloWorkflow, input: { name: "Bo" }, ...later },
      { workflow: "hello", input: { name: "Cy" }, ...later },
    ]);
    const runA = a!.ok ? a!.runId : "";
    const runB = g!.ok ? g!.runId : "";
    await expectCode(globex.cancel(runA, "not yours"), "RUN_NOT_FOUND");
    expect((await admin.get(runA))?.status).toBe("pending");
    expect((await acme.cancel(runA, "mine")).status).toBe("cancelled");
    await acme.cancel(runB);
    expect((await admin.list({ tenantId: "acme", status: ["cancelled"] })).map((r) => r.runId).sort()).toEqual(
      [runA, runB].sort(),
    );
  });

  it("a rerun keeps the tenant; the calls that span every tenant are refused; a bad tenant id is a typed error", async () => {
    const { runId } = await globex.submit(helloWorkflow, { name: "Di" });
    await globex.wait(runId);
    const rerun = await globex.rerun(runId, { from: "compose", input: { name: "Ed" } });
    expect(await globex.wait(rerun.runId)).toMatchObject({
      status: "completed",
      tenantId: "globex",
      parentRunId: runId,
    });
    expect(await acme.get(rerun.runId)).toBeNull();

    await expectCode(globex.emit("anything", {}), "INVALID_ARGUMENT");
    await expectCode(globex.readFeed(), "INVALID_ARGUMENT");
    await expectCode(globex.pauseWorkflow("hello"), "INVALID_ARGUMENT");
    expect(() => createClient({ backend: "sqlite:./x.db", cwd: dir, tenant: "not valid" })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});
