import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { Backend } from "@cairn/backend-interface";
import {
  discoverWorkflows,
  openBackend,
  startWorker,
  submit,
  waitForRun,
  type WorkerEvent,
  type WorkerHandle,
} from "../src/index.js";
import { resolveRetentionDefaults } from "../src/config.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/retention/", import.meta.url));

describe("retention in the worker (in-process worker, real SQLite)", () => {
  let dir = "";
  let backend: Backend | undefined;
  let workers: WorkerHandle[] = [];
  afterEach(async () => {
    for (const w of workers) await w.stop({ urgent: true });
    workers = [];
    await backend?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("workers delete ended runs past their workflow's retention (else the default), once whatever the number of workers", async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-retention-"));
    backend = await openBackend(`sqlite:${join(dir, "cairn.db")}`);
    const events: WorkerEvent[] = [];
    for (let w = 0; w < 2; w++) {
      workers.push(
        await startWorker({
          backend,
          workflowsDir: FIXTURES,
          concurrency: 2,
          pollMs: 20,
          maintenanceMs: 100,
          workerId: `w${w}`,
          retention: { everyMs: 300, defaults: { failedMs: 0 } },
          onEvent: (e) => events.push(e),
        }),
      );
    }
    const runIds: string[] = [];
    for (let i = 0; i < 3; i++) runIds.push((await submit(backend, { workflow: "kept", input: { i } })).runId);
    for (const id of runIds) expect((await waitForRun(backend, id, { pollMs: 20 })).run.status).toBe("completed");
    // Kept for 1 s after they ended, then deleted by one of the two workers' passes.
    await new Promise((r) => setTimeout(r, 300));
    expect((await backend.listRuns({ workflowSlug: "kept" })).length).toBe(3);
    const deadline = Date.now() + 10_000;
    while ((await backend.listRuns({ workflowSlug: "kept" })).length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await backend.listRuns({ workflowSlug: "kept" })).toEqual([]);
    const deleted = events.filter(
      (e): e is Extract<WorkerEvent, { type: "runs:deleted" }> => e.type === "runs:deleted",
    );
    expect(deleted.reduce((n, e) => n + e.runs, 0)).toBe(3);
    expect(events.filter((e) => e.type === "error")).toEqual([]);
  });

  it("a malformed retention is a problem of its workflow, or a ConfigError of cairn.config.json, saying what is expected", async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-retention-"));
    const wf = join(dir, "wfs", "bad", "steps");
    await (await import("node:fs/promises")).mkdir(wf, { recursive: true });
    await writeFile(
      join(dir, "wfs", "bad", "workflow.ts"),
      `import { defineWorkflow } from "@cairn/worker";\nexport default defineWorkflow({ name: "Bad", retention: { completed: "a week", running: "1d" } });\n`,
    );
    await writeFile(
      join(wf, "s.ts"),
      `import { defineStep } from "@cairn/worker";\nexport default defineStep({ run: async () => 1 });\n`,
    );
    const { problems } = await discoverWorkflows(join(dir, "wfs"));
    expect(problems[0]?.message).toMatch(
      /retention\.completed must be a duration such as "7d".*retention\.running is not a run status that ends/,
    );
    await writeFile(join(dir, "cairn.config.json"), JSON.stringify({ retention: { failed: -5 } }));
    await expect(resolveRetentionDefaults(dir)).rejects.toMatchObject({ code: "CONFIG_ERROR" });
    await writeFile(join(dir, "cairn.config.json"), JSON.stringify({ retention: { failed: "30d" } }));
    expect(await resolveRetentionDefaults(dir)).toEqual({ failedMs: 30 * 86_400_000 });
  });
});
