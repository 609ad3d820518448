/**
 * The filesystem feed's crash behaviour with real processes SIGKILLed in the middle of a write: before its batch is
 * published (its feed slot claimed), the slot settles void at the next write, at once; after, the batch is listed
 * exactly once. Readers never wait on the dead writer's slot.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { Event } from "@cairn/backend-interface";
import type { FileSystemBackend } from "../src/index.js";
import { freshStore } from "./fs-test-utils.js";
import { registerManual } from "../../../test-support/register.js";

const CHILD = fileURLToPath(new URL("./child/feed-stall.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Starts a writer that stalls `when` its batch is published, waits until it stalls, and SIGKILLs it. */
async function dieMidWrite(dir: string, runId: string, when: "before" | "after"): Promise<void> {
  const proc = spawn(process.execPath, ["--conditions=@cairn/source", "--import", "tsx", CHILD, dir, runId, when], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((resolve) => proc.on("exit", resolve));
  for await (const line of createInterface({ input: proc.stdout })) if (line === "stalled") break;
  expect(stderr).toBe("");
  proc.kill("SIGKILL");
  await exited;
}

const messages = (events: Event[]) => events.map((e) => (e.type === "LogEntry" ? e.message : e.type));
async function feedOf(b: FileSystemBackend): Promise<Event[]> {
  return (await b.readFeed({ limit: 1000 })).entries.map((e) => e.event);
}
async function log(b: FileSystemBackend, runId: string, message: string): Promise<void> {
  const ts = b.clock.nowUs();
  await b.appendEvent("wf", runId, {
    eventId: `${message}-${ts}`,
    timestampUs: ts,
    workflowSlug: "wf",
    runId,
    category: "step",
    stepId: "s",
    type: "LogEntry",
    stream: "stdout",
    message,
    attemptNumber: 1,
  });
}

describe("filesystem feed: writers killed mid-write", () => {
  async function store() {
    const s = await freshStore({ durability: "none" });
    cleanups.push(s.cleanup);
    await registerManual(s.backend, "wf");
    const { runId } = await s.backend.submitRun({ workflowSlug: "wf" });
    await log(s.backend, runId, "before");
    return { ...s, runId };
  }

  it("killed after claiming its slot, before publishing: nobody waits, the next write goes through, nothing is listed for it", async () => {
    const { backend, dir, runId } = await store();
    await dieMidWrite(dir, runId, "before");
    expect(messages(await feedOf(backend))).toEqual(["RunSubmitted", "before"]);
    const t0 = Date.now();
    await log(backend, runId, "next");
    expect(Date.now() - t0, "the dead writer's slot is settled at once, not after its lease").toBeLessThan(10_000);
    expect(messages(await feedOf(backend))).toEqual(["RunSubmitted", "before", "next"]);
    expect(messages(await backend.loadEvents("wf", runId))).toEqual(["RunSubmitted", "before", "next"]);
  }, 60_000);

  it("killed after publishing: its batch is committed and listed exactly once, before the next write", async () => {
    const { backend, dir, runId } = await store();
    await dieMidWrite(dir, runId, "after");
    expect(messages(await feedOf(backend))).toEqual(["RunSubmitted", "before", "stalled-after"]);
    await log(backend, runId, "next");
    expect(messages(await feedOf(backend))).toEqual(["RunSubmitted", "before", "stalled-after", "next"]);
    expect(messages(await backend.loadEvents("wf", runId))).toEqual([
      "RunSubmitted",
      "before",
      "stalled-after",
      "next",
    ]);
  }, 60_000);
});
