import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteBackend } from "../src/index.js";
import { SqliteWakeups } from "../src/sqlite-wakeups.js";
import { tempDb } from "./helpers.js";
import { registerManual } from "../../../test-support/register.js";

const CHILD = fileURLToPath(new URL("./child-wakeups.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function spawnChild(
  filename: string,
  mode: string,
): { proc: ChildProcess; next: () => Promise<string>; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ["--conditions=@cairn/source", "--import", "tsx", CHILD, filename, mode], {
    cwd: REPO_ROOT,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let stderr = "";
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`child exited early: ${stderr}`);
    return r.value;
  };
  return { proc, next, exited };
}

/** A writer child on the database, ready to submit on request; killed after the test. */
async function writer(filename: string): Promise<{ submit: () => Promise<void> }> {
  const c = spawnChild(filename, "writer");
  cleanups.push(async () => {
    c.proc.stdin!.end();
    await c.exited;
  });
  expect(await c.next()).toBe("ready");
  return {
    submit: async () => {
      c.proc.stdin!.write("submit\n");
      expect(await c.next()).toBe("done");
    },
  };
}

async function fileBackend(): Promise<{ backend: SqliteBackend; filename: string }> {
  const t = tempDb();
  cleanups.push(t.cleanup);
  const backend = new SqliteBackend(t.filename);
  await backend.initialize();
  cleanups.push(() => backend.close());
  await registerManual(backend, "wf");
  return { backend, filename: t.filename };
}

/** Waits until `count()` is positive or `ms` pass; returns how long it took (never asserted: speed is for benchmarks). */
async function waitFor(count: () => number, ms = 2000): Promise<number> {
  const t0 = performance.now();
  while (count() === 0 && performance.now() - t0 < ms) await sleep(1);
  return performance.now() - t0;
}

describe("SqliteBackend wake-ups", () => {
  it("declares notifications for file and in-memory databases", async () => {
    const { backend } = await fileBackend();
    expect(backend.capabilities.notifications).toBe(true);
    expect(new SqliteBackend(":memory:").capabilities.notifications).toBe(true);
  });

  it("calls a subscriber when another process commits", async () => {
    const { backend, filename } = await fileBackend();
    const w = await writer(filename);
    let calls = 0;
    const unsubscribe = backend.subscribe(() => calls++);
    cleanups.push(unsubscribe);
    await sleep(20);
    calls = 0;
    await w.submit();
    await waitFor(() => calls);
    expect(calls).toBeGreaterThan(0);
  });

  it("stays silent after unsubscribe, and stops checking", async () => {
    const { backend, filename } = await fileBackend();
    const w = await writer(filename);
    let calls = 0;
    const unsubscribe = backend.subscribe(() => calls++);
    unsubscribe();
    unsubscribe();
    await w.submit();
    await backend.submitRun({ workflowSlug: "wf", input: {} });
    await sleep(200);
    expect(calls).toBe(0);
  });

  it("calls in-process subscribers after the backend's own commit, once for a group commit", async () => {
    const { backend } = await fileBackend();
    let calls = 0;
    cleanups.push(backend.subscribe(() => calls++));
    await sleep(20);
    calls = 0;
    await backend.submitRun({ workflowSlug: "wf", input: {} });
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    // The data_version check takes our own commit in rather than waking a second time.
    await sleep(50);
    expect(calls).toBe(1);
    await Promise.all(Array.from({ length: 5 }, (_, i) => backend.submitRun({ workflowSlug: "wf", input: { i } })));
    await sleep(50);
    // Five submits committed together: far fewer than five calls.
    expect(calls - 1).toBeGreaterThan(0);
    expect(calls - 1).toBeLessThan(5);
  });

  it("wakes in-process subscribers of an in-memory database", async () => {
    const backend = new SqliteBackend(":memory:");
    await backend.initialize();
    cleanups.push(() => backend.close());
    await registerManual(backend, "wf");
    let calls = 0;
    const unsubscribe = backend.subscribe(() => calls++);
    await backend.submitRun({ workflowSlug: "wf", input: {} });
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    unsubscribe();
    await backend.submitRun({ workflowSlug: "wf", input: {} });
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
  });

  it("close() stops the check and forgets the listeners", async () => {
    const { filename } = await fileBackend();
    const wakeups = new SqliteWakeups(filename, { crossProcess: true });
    let calls = 0;
    wakeups.subscribe(() => calls++);
    expect(wakeups.watching).toBe(true);
    wakeups.close();
    expect(wakeups.watching).toBe(false);
    const w = await writer(filename);
    await w.submit();
    await sleep(100);
    expect(calls).toBe(0);
    expect(wakeups.subscribe(() => calls++)).toBeTypeOf("function");
    expect(wakeups.watching).toBe(false);
  });

  for (const mode of ["linger", "close"]) {
    it(`a process that subscribed exits by itself (${mode === "close" ? "after close()" : "without unsubscribing or closing"})`, async () => {
      const { filename } = await fileBackend();
      const c = spawnChild(filename, mode);
      expect(await c.next()).toBe("heard");
      const code = await Promise.race([c.exited, sleep(10_000).then(() => "still running")]);
      if (code === "still running") c.proc.kill("SIGKILL");
      expect(code).toBe(0);
    });
  }
});
