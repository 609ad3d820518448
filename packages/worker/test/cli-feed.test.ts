/**
 * `cairn feed` through the real CLI process against a real SQLite store: `--json` lines with their cursors, resuming
 * with `--after`, `--types` and `--limit`, a malformed cursor refused, and `--follow` printing events committed while
 * it runs (the subscribe path) until its `--limit`.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newEventId, type Backend, type Event } from "@cairn/backend-interface";
import { openBackend } from "../src/index.js";
import { CAIRN_BIN, cairn } from "./support/cli-process.js";
import { registerManual } from "../../../test-support/register.js";

let dir: string;
let url: string;
let backend: Backend;
const lines = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { cursor: string; event: Event });

async function log(runId: string, message: string): Promise<void> {
  const ts = backend.clock.nowUs();
  await backend.appendEvent("wf", runId, {
    eventId: newEventId(ts),
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

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cairn-cli-feed-"));
  url = `sqlite:${join(dir, "cairn.db")}`;
  backend = await openBackend(url);
  await registerManual(backend, "wf");
  await backend.submitRun({ workflowSlug: "wf", runId: "r1" });
  await backend.submitRun({ workflowSlug: "wf", runId: "r2" });
  for (let i = 0; i < 4; i++) await log(i % 2 ? "r2" : "r1", `m${i}`);
}, 60_000);
afterAll(async () => {
  await backend?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("cairn feed", () => {
  it("--json prints one {cursor, event} per line in commit order; --after resumes behind a cursor; --types and --limit narrow it", async () => {
    const all = await cairn(["feed", "--json", "--backend", url]);
    expect(all.code, all.stderr).toBe(0);
    const got = lines(all.stdout);
    const expected = await backend.readFeed({ limit: 1000 });
    expect(got).toEqual(expected.entries.map((e) => ({ cursor: e.cursor, event: e.event })));
    expect(got.map((l) => l.event.type)).toEqual([
      "RunSubmitted",
      "RunSubmitted",
      "LogEntry",
      "LogEntry",
      "LogEntry",
      "LogEntry",
    ]);

    const rest = await cairn(["feed", "--json", "--backend", url, "--after", got[2]!.cursor]);
    expect(lines(rest.stdout)).toEqual(got.slice(3));
    const logs = await cairn(["feed", "--json", "--backend", url, "--types", "LogEntry", "--limit", "3"]);
    expect(lines(logs.stdout).map((l) => (l.event.type === "LogEntry" ? l.event.message : ""))).toEqual([
      "m0",
      "m1",
      "m2",
    ]);

    const human = await cairn(["feed", "--backend", url, "--limit", "2"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/RunSubmitted\s+wf\/r1\n.*RunSubmitted\s+wf\/r2\n$/);
    expect(human.stderr).toContain(`cairn feed --after ${got[1]!.cursor}`);
  }, 60_000);

  it("a malformed cursor is a usage error (exit 2) that says what to pass", async () => {
    const r = await cairn(["feed", "--json", "--backend", url, "--after", "cf1_bogus"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: "INVALID_FEED_CURSOR" });
    expect(r.stdout).toBe("");
  }, 60_000);

  it("--follow --json prints events committed while it runs, from its cursor, and stops at --limit", async () => {
    const start = (await backend.readFeed({ limit: 1000 })).cursor!;
    const child = spawn(
      process.execPath,
      [CAIRN_BIN, "feed", "--follow", "--json", "--backend", url, "--after", start, "--limit", "3", "--poll-ms", "50"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 3; i++) await log("r1", `live${i}`);
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const code = await exited;
    clearTimeout(timer);
    expect(code, stderr).toBe(0);
    const got = lines(stdout);
    expect(got.map((l) => (l.event.type === "LogEntry" ? l.event.message : ""))).toEqual(["live0", "live1", "live2"]);
    expect(got.map((l) => l.cursor)).toEqual(
      (await backend.readFeed({ after: start, limit: 3 })).entries.map((e) => e.cursor),
    );
  }, 60_000);
});
