/**
 * What `cairn run`, `cairn logs` and the live views show, through the real CLI against a real SQLite store and a real
 * worker process: every attempt with its error and stack, log lines with the time they were emitted interleaved with
 * attempt errors, `--follow` and `--watch` until the run ends, progress, and a reader that goes away early.
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAIRN_BIN, until } from "./support/cli-process.js";
import { startCliStore, type CliStore } from "./support/cli-store.js";

const MESSAGE =
  "the upstream service answered 503 Service Unavailable to attempt 1: its queue is full, try again later";
const NO_STACK = /EPIPE|Unhandled 'error'/;
let store: CliStore;
const json = <T = any>(text: string): T => JSON.parse(text) as T;

beforeAll(async () => {
  store = await startCliStore("views");
}, 60_000);
afterAll(async () => {
  expect(await store?.close()).toBe(0);
}, 30_000);

/** Submits `observe` with `input` and waits for it to end; its run id. */
async function finished(input: object, code = 0): Promise<string> {
  const r = await store.run(["submit", "observe", "--input", JSON.stringify(input), "--wait", "--json"]);
  expect(r.code, r.stderr).toBe(code);
  return json(r.stdout).runId as string;
}

describe("cairn run", () => {
  it("shows each attempt of a step that succeeded on retry: number, worker, start, duration, outcome, the full message and a folded stack", async () => {
    const runId = await finished({ failAttempts: 2 });
    const r = await store.run(["run", runId]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /work\s+retried\s+#1\s+\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+(\.\d)?ms\s+execution-error/,
    );
    expect(r.stdout).toMatch(/retried\s+#2/);
    expect(r.stdout).toMatch(/completed\s+#3/);
    expect(r.stdout).toContain(`UpstreamError: ${MESSAGE}`);
    expect(r.stdout).toContain("second line of the message");
    expect(r.stdout).toMatch(/at callUpstream .*work\.ts/);
    expect(r.stdout).toMatch(/… \d+ more frames \(--verbose shows all\)/);
    const verbose = await store.run(["run", runId, "--verbose"]);
    expect(verbose.stdout).not.toContain("more frames");
    expect(verbose.stdout.match(/at callUpstream/g)!.length).toBeGreaterThanOrEqual(18); // 9 frames per failed attempt
    const data = json((await store.run(["run", runId, "--json"])).stdout);
    const attempts = data.steps.find((s: { stepId: string }) => s.stepId === "work").attempts;
    expect(attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["retried", "retried", "completed"]);
    expect(attempts[0]).toMatchObject({
      attemptNumber: 1,
      workerId: expect.any(String),
      error: { name: "UpstreamError", stack: expect.stringContaining("callUpstream") },
    });
  }, 60_000);

  it("a terminal failure is shown whole, with its stack, not cut to a line", async () => {
    const runId = await finished({ failAttempts: 9 }, 10);
    const r = await store.run(["run", runId]);
    expect(r.stdout).toMatch(/status\s+failed/);
    expect(r.stdout).toMatch(/failed\s+#3/);
    expect(r.stdout).toContain(MESSAGE.replace("attempt 1", "attempt 3"));
    expect(r.stdout).toMatch(/at callUpstream/);
  }, 60_000);
});

describe("cairn logs", () => {
  it("each line carries the time it was emitted, and attempt errors come between the lines, in time order", async () => {
    const runId = await finished({ lines: 4, everyMs: 300, failAttempts: 1 });
    const lines = json<Array<{ kind: string; timestampUs: number; attemptNumber: number; message: string }>>(
      (await store.run(["logs", runId, "work", "--json"])).stdout,
    );
    const plain = lines.filter((l) => l.kind === "log" && !l.message.startsWith("[progress]"));
    expect(plain.map((l) => l.message)).toEqual(
      [1, 2, 3, 4]
        .map((i) => `line ${i} of 4 (attempt 1)`)
        .concat([1, 2, 3, 4].map((i) => `line ${i} of 4 (attempt 2)`)),
    );
    for (let i = 1; i < 4; i++)
      expect(plain[i]!.timestampUs - plain[i - 1]!.timestampUs).toBeGreaterThanOrEqual(250_000);
    expect(lines.map((l) => l.timestampUs)).toEqual([...lines.map((l) => l.timestampUs)].sort((a, b) => a - b));
    const error = lines.findIndex((l) => l.kind === "error");
    expect(lines[error]).toMatchObject({ attemptNumber: 1, message: expect.stringContaining("503") });
    expect(lines.slice(0, error).every((l) => l.attemptNumber === 1)).toBe(true);
    expect(lines.slice(error + 1).every((l) => l.attemptNumber === 2)).toBe(true);
    const human = await store.run(["logs", runId]);
    expect(human.stdout).toMatch(/\d\d:\d\d:\d\d\.\d{3} work#1 line 1 of 4 \(attempt 1\)/);
    expect(human.stdout).toMatch(/work#1 ✗ attempt failed \(execution-error\), retried: UpstreamError: the upstream/);
  }, 60_000);

  it("--follow prints lines while the run goes on and ends when it ends; a reader that goes away does not crash it", async () => {
    const hold = join(store.tmp, `follow-${Date.now()}`);
    const { runId } = json(
      (
        await store.run([
          "submit",
          "observe",
          "--input",
          JSON.stringify({ lines: 3, everyMs: 100, holdUntil: hold }),
          "--json",
        ])
      ).stdout,
    );
    const child = spawn(process.execPath, [CAIRN_BIN, "logs", runId, "--follow", "--backend", store.url], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    // The lines arrive while the step still runs (it holds until the file exists)...
    await until(
      "the lines to be followed while the run goes on",
      async () => (out.match(/line \d of 3/g) ?? []).length === 3,
      20_000,
    );
    expect((await store.backend.getRun(runId))?.status).toBe("running");
    await writeFile(hold, "");
    // ...and the command ends when the run does.
    expect(await exited, err).toBe(0);
    expect(out.match(/line \d of 3/g)).toHaveLength(3);
    expect(err).toContain(`Run ${runId} completed`);
    const hold2 = join(store.tmp, `follow2-${Date.now()}`);
    const second = json(
      (await store.run(["submit", "observe", "--input", JSON.stringify({ lines: 2, holdUntil: hold2 }), "--json"]))
        .stdout,
    ).runId as string;
    const early = spawn(process.execPath, [CAIRN_BIN, "logs", second, "--follow", "--backend", store.url], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    early.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const earlyExit = new Promise<number | null>((resolve) => early.on("close", resolve));
    await new Promise<void>((resolve) =>
      early.stdout.once("data", () => {
        early.stdout.destroy();
        resolve();
      }),
    );
    await writeFile(hold2, "");
    const earlyCode = await earlyExit;
    expect(stderr).not.toMatch(NO_STACK);
    expect(earlyCode, stderr).toBe(0);
  }, 60_000);
});

describe("progress", () => {
  it("ctx.progress is shown live by submit --wait and by cairn run (and run --watch ends with the run)", async () => {
    const hold = join(store.tmp, `hold-${Date.now()}`);
    const child = spawn(
      process.execPath,
      [
        CAIRN_BIN,
        "submit",
        "observe",
        "--input",
        JSON.stringify({ lines: 1, holdUntil: hold }),
        "--wait",
        "--backend",
        store.url,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await until(
      "submit --wait to show the progress",
      async () => /work\s+running\s+\S+\s+50% holding/.test(err),
      15_000,
    );
    const runId = /Submitted run (\S+) of observe/.exec(err)![1]!;
    const shown = await store.run(["run", runId]);
    expect(shown.stdout).toMatch(/work\s+running\s+#1 .* 50% holding \(\d+(\.\d)?(ms|s) ago\)/);
    const watch = spawn(
      process.execPath,
      [CAIRN_BIN, "run", runId, "--watch", "--poll-ms", "100", "--backend", store.url],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let watched = "";
    watch.stdout.on("data", (d: Buffer) => (watched += d.toString()));
    const watchExit = new Promise<number | null>((resolve) => watch.on("close", resolve));
    await until("run --watch to show the progress", async () => /50% holding/.test(watched), 15_000);
    await writeFile(hold, "");
    expect(await exited, err).toBe(0);
    expect(await watchExit).toBe(0);
    expect(watched).toMatch(/status\s+completed/);
  }, 60_000);
});
