import { spawn, type ChildProcess } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { FileSystemBackend } from "../src/index.js";
import { FsDoorbell } from "../src/fs-doorbell.js";
import { freshStore } from "./fs-test-utils.js";
import { registerManual } from "../../../test-support/register.js";

const CHILD = fileURLToPath(new URL("./child/fs-wakeup-child.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const turn = () => new Promise<void>((r) => setImmediate(r));

function spawnChild(
  dir: string,
  mode: string,
): { proc: ChildProcess; next: () => Promise<string>; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ["--conditions=@cairn/source", "--import", "tsx", CHILD, dir, mode], {
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

/** A writer child on the store, ready to submit on request; stopped after the test. */
async function writer(dir: string): Promise<{ submit: () => Promise<void> }> {
  const c = spawnChild(dir, "writer");
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

async function store(): Promise<{ dir: string; backend: FileSystemBackend }> {
  const s = await freshStore();
  cleanups.push(s.cleanup);
  cleanups.push(() => s.backend.close());
  await registerManual(s.backend, "wf");
  return s;
}

/** Waits until `count()` is positive or `ms` pass (the time is never asserted: speed is for benchmarks). */
async function waitFor(count: () => number, ms = 2000): Promise<void> {
  const t0 = performance.now();
  while (count() === 0 && performance.now() - t0 < ms) await sleep(1);
}

describe("FileSystemBackend wake-ups (doorbell)", () => {
  it("declares notifications", async () => {
    expect((await store()).backend.capabilities.notifications).toBe(true);
  });

  it("calls a subscriber when another process publishes events", async () => {
    const { dir, backend } = await store();
    const w = await writer(dir);
    let calls = 0;
    cleanups.push(backend.subscribe(() => calls++));
    await sleep(20);
    calls = 0;
    await w.submit();
    await waitFor(() => calls);
    expect(calls).toBeGreaterThan(0);
  });

  it("stays silent after unsubscribe", async () => {
    const { dir, backend } = await store();
    const w = await writer(dir);
    let calls = 0;
    const unsubscribe = backend.subscribe(() => calls++);
    unsubscribe();
    unsubscribe();
    await w.submit();
    await backend.submitRun({ workflowSlug: "wf", input: {} });
    await sleep(200);
    expect(calls).toBe(0);
  });

  it("calls in-process subscribers right after the backend's own write", async () => {
    const { backend } = await store();
    let calls = 0;
    cleanups.push(backend.subscribe(() => calls++));
    await backend.submitRun({ workflowSlug: "wf", input: {} });
    await turn();
    expect(calls).toBe(1);
    // The watcher sees the file change too, and recognises the echo of this process's own ring.
    await sleep(100);
    expect(calls).toBe(1);
  });

  it("rings for writes that may make work ready (submit, schedule), not for the others (logs)", async () => {
    const { backend } = await store();
    const { runId } = await backend.submitRun({ workflowSlug: "wf", input: {} });
    let calls = 0;
    cleanups.push(backend.subscribe(() => calls++));
    await backend.saveStepLogs("wf", runId, "s", [
      { timestampUs: 0, stream: "stdout", message: "hello", attemptNumber: 1 },
    ]);
    await sleep(50);
    expect(calls).toBe(0);
    await backend.scheduleStep("wf", runId, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
    await turn();
    expect(calls).toBe(1);
  });

  it("keeps the doorbell file empty however often it rings", async () => {
    const { dir, backend } = await store();
    for (let i = 0; i < 20; i++) await backend.submitRun({ workflowSlug: "wf", input: { i } });
    await turn();
    expect(statSync(join(dir, "doorbell")).size).toBe(0);
  });

  it("falls back to polling the file's times, which also sees other processes", async () => {
    const { dir } = await store();
    const bell = new FsDoorbell(join(dir, "doorbell"), { mode: "poll", pollIntervalMs: 20 });
    cleanups.push(() => bell.close());
    let calls = 0;
    const unsubscribe = bell.subscribe(() => calls++);
    expect(bell.watching).toBe("poll");
    await sleep(50);
    const w = await writer(dir);
    await sleep(50);
    calls = 0;
    await w.submit();
    await waitFor(() => calls);
    expect(calls).toBeGreaterThan(0);
    unsubscribe();
    expect(bell.watching).toBe(null);
    calls = 0;
    await w.submit();
    await sleep(100);
    expect(calls).toBe(0);
  });

  it("keeps hearing other processes after the doorbell file was removed", async () => {
    const { dir } = await store();
    const path = join(dir, "doorbell");
    const bell = new FsDoorbell(path);
    cleanups.push(() => bell.close());
    let calls = 0;
    bell.subscribe(() => calls++);
    rmSync(path);
    await sleep(100);
    const w = await writer(dir);
    await sleep(50);
    calls = 0;
    await w.submit();
    await waitFor(() => calls);
    expect(calls).toBeGreaterThan(0);
    expect(bell.watching).toBe("watch");
  });

  it("close() stops the watcher and forgets the listeners", async () => {
    const { dir } = await store();
    const bell = new FsDoorbell(join(dir, "doorbell"));
    let calls = 0;
    bell.subscribe(() => calls++);
    expect(bell.watching).toBe("watch");
    bell.close();
    expect(bell.watching).toBe(null);
    const w = await writer(dir);
    await w.submit();
    await sleep(100);
    expect(calls).toBe(0);
  });

  for (const mode of ["linger", "close"]) {
    it(`a process that subscribed exits by itself (${mode === "close" ? "after close()" : "without unsubscribing or closing"})`, async () => {
      const { dir } = await store();
      const c = spawnChild(dir, mode);
      expect(await c.next()).toBe("heard");
      const code = await Promise.race([c.exited, sleep(10_000).then(() => "still running")]);
      if (code === "still running") c.proc.kill("SIGKILL");
      expect(code).toBe(0);
    });
  }
});
