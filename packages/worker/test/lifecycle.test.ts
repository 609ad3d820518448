import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "@cairn/backend-interface";
import { openBackend, startWorker, submit, waitForRun, type WorkerEvent, type WorkerHandle } from "../src/index.js";
import { fixtureRecord } from "./fixtures/hooks/record.js";

const WORKFLOWS = fileURLToPath(new URL("./fixtures/hooks", import.meta.url));

describe("lifecycle hooks, services and env through two real workers on one SQLite file", () => {
  let dir = "";
  const backends: Backend[] = [];
  const workers: WorkerHandle[] = [];
  const events: WorkerEvent[] = [];
  const record = fixtureRecord();
  const runs: Record<string, string[]> = { ok: [], fail: [], "hook-throws": [], cancel: [], timeout: [] };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-hooks-"));
    for (let i = 0; i < 3; i++) backends.push(await openBackend(`sqlite:${join(dir, "cairn.db")}`));
    for (const backend of backends.slice(1)) {
      workers.push(
        await startWorker({
          backend,
          workflowsDir: WORKFLOWS,
          concurrency: 2,
          heartbeatMs: 50,
          staleMs: 5000,
          pollMs: 20,
          maintenanceMs: 50,
          abortGraceMs: 200,
          onEvent: (e) => events.push(e),
          services: { clock: async () => ({ source: "worker", close: () => void record.disposed.push("clock") }) },
          env: { REGION: "us", TOKEN: "t", UNSET: undefined },
        }),
      );
    }
    expect(workers[0]!.problems).toEqual([]);
    const client = backends[0]!;
    for (let i = 0; i < 8; i++)
      runs.ok!.push((await submit(client, { workflow: "lifecycle", input: { mode: "ok" } })).runId);
    for (let i = 0; i < 2; i++)
      runs.fail!.push((await submit(client, { workflow: "lifecycle", input: { mode: "fail" } })).runId);
    runs["hook-throws"]!.push((await submit(client, { workflow: "lifecycle", input: { mode: "hook-throws" } })).runId);
    runs.cancel!.push((await submit(client, { workflow: "lifecycle", input: { mode: "hang" } })).runId);
    runs.timeout!.push(
      (await submit(client, { workflow: "lifecycle", input: { mode: "hang" }, timeoutMs: 400 })).runId,
    );
    const cancelId = runs.cancel![0]!;
    while ((await client.loadRun("lifecycle", cancelId)).find((s) => s.stepId === "join")?.status !== "running")
      await sleep(20);
    await client.cancelRun(cancelId, "the customer changed their mind");
    for (const id of Object.values(runs).flat()) await waitForRun(client, id, { pollMs: 20 });
    await sleep(300); // hooks run after the write that ended the run: let the last ones finish
    await Promise.all(workers.map((w) => w.stop()));
  }, 60_000);
  afterAll(async () => {
    for (const b of backends) await b.close();
    await rm(dir, { recursive: true, force: true });
  });

  const callsOf = (runId: string) => record.calls.filter((c) => c.runId === runId);

  it("every run gets exactly one onStart and exactly one end hook, from the worker that made the transition", () => {
    const expected = {
      ok: "onComplete",
      fail: "onFail",
      "hook-throws": "onComplete",
      cancel: "onCancel",
      timeout: "onFail",
    } as const;
    for (const [kind, ids] of Object.entries(runs)) {
      for (const id of ids) {
        expect(
          callsOf(id)
            .map((c) => c.hook)
            .sort(),
          `${kind} run ${id}`,
        ).toEqual([expected[kind as keyof typeof expected], "onStart"].sort());
      }
    }
    expect(new Set(record.calls.map((c) => c.workerId)).size).toBe(2); // both workers made transitions
  });

  it("end hooks get what ended the run: the output, the failure reason and step, the cancel", async () => {
    const ok = callsOf(runs.ok![0]!).find((c) => c.hook === "onComplete")!;
    expect(ok.detail).toEqual({
      region: "eu",
      output: { join: { region: "eu", token: "t", path: null, clock: "worker", counted: true } },
    });
    expect(callsOf(runs.fail![0]!).find((c) => c.hook === "onFail")!.detail).toEqual({
      reason: "step-failed",
      failedStep: "join",
    });
    expect(callsOf(runs.timeout![0]!).find((c) => c.hook === "onFail")!.detail).toMatchObject({ reason: "timeout" });
    expect(callsOf(runs.cancel![0]!).find((c) => c.hook === "onCancel")!.detail).toEqual({
      reason: "the customer changed their mind",
    });
  });

  it("a hook that throws is logged and recorded on the step, and the run stays as it ended", async () => {
    const id = runs["hook-throws"]![0]!;
    expect((await backends[0]!.getRun(id))?.status).toBe("completed");
    const logs = (await backends[0]!.loadStepLogs("lifecycle", id, "join")) ?? [];
    expect(logs.map((l) => l.message)).toContain("[hook onComplete] failed: Error: the hook's own bug");
    expect(events.some((e) => e.type === "error" && e.where === `onComplete hook of lifecycle/${id}`)).toBe(true);
    expect(events.some((e) => e.type === "run:hook" && e.runId === id && !e.ok)).toBe(true);
  });

  it("services are created lazily, once per worker and scope, and disposed when the worker stops", () => {
    const created = record.created.filter((n) => n === "counter").length;
    expect(created).toBeGreaterThanOrEqual(1);
    expect(created).toBeLessThanOrEqual(2);
    expect(record.disposed.filter((n) => n === "counter").length).toBe(created);
    expect(record.disposed.filter((n) => n === "clock").length).toBe(created);
  });
});
