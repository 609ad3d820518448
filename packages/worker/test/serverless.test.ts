import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "@cairn/backend-interface";
import {
  discoverWorkflows,
  handleOne,
  registerWorkflows,
  submit,
  openBackend,
  type HandleOneResult,
  type MaintenanceTickResult,
} from "../src/index.js";
import { SOURCE_ARGS } from "./support/cli-process.js";
import { DRIVERS } from "./support/drivers.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const WORKFLOWS = fileURLToPath(new URL("./fixtures/serverless", import.meta.url));

/** Runs one of the examples/serverless scripts as its own short-lived process; `onSpawn` may kill it. */
function host(
  script: "queue-handler" | "cron-maintenance",
  env: Record<string, string>,
  onSpawn?: (kill: () => void) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...SOURCE_ARGS, "--import", "tsx", join(ROOT, "examples/serverless", `${script}.ts`)],
      {
        cwd: ROOT,
        env: { ...process.env, CAIRN_WORKFLOWS: WORKFLOWS, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    onSpawn?.(() => child.kill("SIGKILL"));
  });
}

async function handle(url: string, deadlineMs: number): Promise<HandleOneResult> {
  const r = await host("queue-handler", { CAIRN_BACKEND: url, CAIRN_DEADLINE_MS: String(deadlineMs) });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as HandleOneResult;
}

async function tick(url: string, staleMs: number, retentionMs?: number): Promise<MaintenanceTickResult> {
  const retention: Record<string, string> =
    retentionMs === undefined ? {} : { CAIRN_RETENTION_MS: String(retentionMs) };
  const r = await host("cron-maintenance", { CAIRN_BACKEND: url, CAIRN_STALE_MS: String(staleMs), ...retention });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as MaintenanceTickResult;
}

describe.each(Object.values(DRIVERS))(
  "serverless host on $name: handleOne and maintenanceTick from short-lived processes",
  (driver) => {
    const unavailable = driver.unavailable();
    let url = "";
    let cleanup = async () => {};
    let backend: Backend;

    beforeAll(async () => {
      if (unavailable) return;
      ({ url, cleanup } = await driver.create());
      backend = await openBackend(url);
      const { workflows, problems } = await discoverWorkflows(WORKFLOWS);
      expect(problems).toEqual([]);
      await registerWorkflows(backend, workflows); // what a deploy step does, so clients can submit before any host ran
    });
    afterAll(async () => {
      await backend?.close();
      await cleanup();
    });

    it.skipIf(unavailable !== null)(
      `drives a run to completion through retries, a deadline release and a host killed mid-step${unavailable ? ` (skipped: ${unavailable})` : ""}`,
      async () => {
        const { runId } = await submit(backend, { workflow: "relay", input: { slowMs: 2500 } });
        const step = async (id: string) => (await backend.loadRun("relay", runId)).find((s) => s.stepId === id);

        // 1. `first` completes, `flaky` fails its first attempt; its retry is not due yet, so the host returns idle.
        const a = await handle(url, 10_000);
        expect(a).toMatchObject({ claimed: 2, recorded: { completed: 1, retry: 1 }, stopped: "idle" });

        // 2. A host with too little time: `flaky` completes, `slow` is released at the deadline, before the host returns.
        await sleep(550);
        const b = await handle(url, 1200);
        expect(b).toMatchObject({ recorded: { completed: 1, released: 1 }, stopped: "deadline" });
        expect(await step("slow")).toMatchObject({ status: "scheduled" });

        // 3. A host that dies mid-step (SIGKILL): `slow` is left running under a heartbeat that stops.
        await host("queue-handler", { CAIRN_BACKEND: url, CAIRN_DEADLINE_MS: "10000" }, (kill) => {
          void (async () => {
            while ((await step("slow"))?.status !== "running") await sleep(20);
            kill();
          })();
        });
        expect(await step("slow")).toMatchObject({ status: "running" });

        // 4. Two maintenance hosts at once, past the stale threshold: exactly one reclaims the step.
        await sleep(400);
        const ticks = await Promise.all([tick(url, 300), tick(url, 300)]);
        expect(ticks.flatMap((t) => t.reclaimed)).toEqual([{ workflowSlug: "relay", runId, stepId: "slow" }]);

        // 5. Another host runs `slow` and `last`: the run is complete.
        const e = await handle(url, 10_000);
        expect(e).toMatchObject({ recorded: { completed: 2 }, stopped: "idle" });
        const run = await backend.getRun(runId);
        expect(run?.status).toBe("completed");
        expect(JSON.parse(run!.output!)).toEqual({ last: { done: true, slow: { sleptMs: 2500 } } });
        const slowEvents = await backend.loadEvents("relay", runId, { category: "step", stepId: "slow" });
        expect(slowEvents.filter((x) => x.type === "StepStarted").length).toBe(3);
        expect(slowEvents.filter((x) => x.type === "StepReclaimed").length).toBe(1);

        // 6. Nothing is left: a host finds nothing to do and returns at once.
        expect(await handle(url, 10_000)).toMatchObject({ claimed: 0, stopped: "idle" });

        // 7. Retention: a tick deletes the ended run (with everything of it); the next finds nothing left to delete.
        expect((await tick(url, 300, 0)).deleted).toEqual([runId]);
        expect(await backend.getRun(runId)).toBeNull();
        expect((await tick(url, 300, 0)).deleted).toEqual([]);
      },
      90_000,
    );
  },
);

describe("handleOne in one process (memory store)", () => {
  it("a few calls in a row finish a run (each returns idle while the retry is not due); a deadline that is not one is refused", async () => {
    const { MemoryBackend } = await import("@cairn/backend-memory");
    const backend = new MemoryBackend();
    await backend.initialize();
    const { workflows } = await discoverWorkflows(WORKFLOWS);
    await expect(handleOne({ backend, workflows, deadlineMs: 0 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/deadlineMs must be a positive number of ms/),
    });
    await registerWorkflows(backend, workflows);
    const { runId } = await submit(backend, { workflow: "relay", input: { slowMs: 10 } });
    // The retry is due 500 ms after the failure: a call that returns idle leaves it for the next one.
    let calls = 0;
    while ((await backend.getRun(runId))?.status !== "completed" && calls++ < 20) {
      await handleOne({ backend, workflows, deadlineMs: 5000, concurrency: 2 });
      await sleep(300);
    }
    expect((await backend.getRun(runId))?.status).toBe("completed");
    expect(calls).toBeLessThanOrEqual(4);
    expect((await backend.loadRun("relay", runId)).every((s) => s.status === "completed")).toBe(true);
    await backend.close();
  });
});
