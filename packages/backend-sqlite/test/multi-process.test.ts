import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteBackend } from "../src/index.js";
import { tempDb } from "./helpers.js";
import { registerManual } from "../../../test-support/register.js";

const CHILD = fileURLToPath(new URL("./child-racer.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PROCESSES = 8;
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Starts `n` children on the database, waits until all have opened it, releases them together, returns their results. */
async function race<T>(filename: string, task: string, arg: string, n = PROCESSES): Promise<T[]> {
  const children = Array.from({ length: n }, () => {
    const proc = spawn(
      process.execPath,
      ["--conditions=@cairn/source", "--import", "tsx", CHILD, filename, task, arg],
      { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" } },
    );
    let stderr = "";
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
    const next = async () => {
      const r = await lines.next();
      if (r.done) throw new Error(`child exited early: ${stderr}`);
      return r.value;
    };
    return { proc, next };
  });
  await Promise.all(children.map((c) => c.next()));
  for (const c of children) c.proc.stdin.write("go\n");
  return Promise.all(children.map(async (c) => JSON.parse(await c.next()) as T));
}

async function seed(filename: string, runs: number): Promise<SqliteBackend> {
  const b = new SqliteBackend(filename);
  await b.initialize();
  cleanups.push(() => b.close());
  await registerManual(b, "wf");
  for (let i = 0; i < runs; i++) {
    await b.submitRun({ workflowSlug: "wf", runId: `run-${i}` });
    await b.scheduleStep("wf", `run-${i}`, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
  }
  return b;
}

describe("SqliteBackend with several OS processes on one file", () => {
  it(`${PROCESSES} processes racing to claim the same steps: each step is claimed exactly once`, async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const b = await seed(t.filename, 20);
    const targets = Array.from({ length: 20 }, (_, i) => ({ workflowSlug: "wf", runId: `run-${i}`, stepId: "s" }));
    const won = (await race<string[]>(t.filename, "claim", JSON.stringify(targets))).flat();
    expect(won.sort()).toEqual(targets.map((x) => x.runId).sort());
    for (const x of targets) {
      const started = (await b.loadEvents("wf", x.runId, { category: "step" })).filter((e) => e.type === "StepStarted");
      expect(started).toHaveLength(1);
    }
  }, 60_000);

  it(`${PROCESSES} processes batch-claiming until the queue is empty share it without overlap`, async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const b = await seed(t.filename, 40);
    const won = (await race<string[]>(t.filename, "batch", "")).flat();
    expect(won.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `run-${i}`).sort());
    expect(await b.listScheduledSteps()).toEqual([]);
  }, 60_000);

  it(`${PROCESSES} processes submitting one idempotency key: exactly one run is created`, async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const b = new SqliteBackend(t.filename);
    cleanups.push(() => b.close());
    const results = (await race<Array<{ runId: string; isNew: boolean }>>(t.filename, "submit", "key-1")).flat();
    expect(results.filter((r) => r.isNew)).toHaveLength(1);
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    await b.initialize();
    expect(await b.listRunIds("wf")).toEqual([results[0]!.runId]);
  }, 60_000);
});
