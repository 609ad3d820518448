/**
 * The CLI's control commands and conventions through the real CLI against a real SQLite store and a real worker:
 * Ctrl-C during --wait, --delay and --at, cancel reasons, rerun/retry --wait, runs --watch, analytics for people,
 * parse errors in our words (did you mean, JSON on stderr), per-command help, and tables that fit a real terminal.
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAIRN_BIN, until } from "./support/cli-process.js";
import { startCliStore, type CliStore } from "./support/cli-store.js";

let store: CliStore;
const json = <T = any>(text: string): T => JSON.parse(text) as T;

beforeAll(async () => {
  store = await startCliStore("control");
}, 60_000);
afterAll(async () => {
  expect(await store?.close()).toBe(0);
}, 30_000);

/** Starts `cairn <args>` in the background; Ctrl-C it once `ready` matches its stderr. */
async function interruptWhen(
  args: string[],
  ready: RegExp,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CAIRN_BIN, ...args, "--backend", store.url], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  await until(`${args.join(" ")} to print ${ready}`, async () => ready.test(stderr) || ready.test(stdout), 20_000);
  child.kill("SIGINT");
  return { code: await exited, stdout, stderr };
}

describe("submit --wait interrupted with Ctrl-C", () => {
  it("running the only worker (--workflows): says the run is left with no worker, exits 130", async () => {
    const hold = join(store.tmp, "never");
    const r = await interruptWhen(
      [
        "submit",
        "observe-solo",
        "--input",
        JSON.stringify({ holdUntil: hold }),
        "--wait",
        "--workflows",
        store.soloDir,
      ],
      /work\s+running/,
    );
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/Stopped waiting\. Run \S+ is left (running|pending) with no worker/);
    expect(r.stderr).toContain("cairn worker --workflows");
  }, 60_000);

  it("with another worker running it: says the run goes on, exits 130, and the run does go on", async () => {
    const hold = join(store.tmp, "later");
    const r = await interruptWhen(
      ["submit", "observe", "--input", JSON.stringify({ holdUntil: hold }), "--wait"],
      /work\s+running/,
    );
    expect(r.code, r.stderr).toBe(130);
    const runId = /Run (\S+) goes on/.exec(r.stderr)?.[1];
    expect(runId, r.stderr).toBeDefined();
    await writeFile(hold, "");
    await until(
      "the run to complete without the waiting command",
      async () => (await store.backend.getRun(runId!))?.status === "completed",
    );
  }, 60_000);
});

describe("scheduling and control", () => {
  it("submit --delay and --at start the run later; a bad time is a usage error; cancel records and shows its reason", async () => {
    const before = Date.now() * 1000;
    const delayed = json(
      (await store.run(["submit", "hello", "--input", '{"name":"Ada"}', "--delay", "10m", "--json"])).stdout,
    );
    const run = await store.backend.getRun(delayed.runId);
    expect(run?.status).toBe("pending");
    expect(run!.availableAtUs - before).toBeGreaterThanOrEqual(600e6 - 1e6);
    expect(run!.availableAtUs - before).toBeLessThan(600e6 + 10e6);
    const at = await store.run(["submit", "hello", "--input", '{"name":"Grace"}', "--at", "2099-03-01T09:00:00Z"]);
    expect(at.code, at.stderr).toBe(0);
    expect(at.stderr).toMatch(/it starts at 2099-03-01/);
    expect((await store.backend.getRun(at.stdout.trim()))?.availableAtUs).toBe(
      Date.parse("2099-03-01T09:00:00Z") * 1000,
    );
    const bad = await store.run(["submit", "hello", "--at", "next tuesday"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--at must be an ISO 8601 time such as 2026-03-01T09:00:00Z");
    const cancel = await store.run(["cancel", delayed.runId, "--reason", "wrong customer"]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toBe(`Cancelled run ${delayed.runId}: wrong customer.\n`);
    expect((await store.run(["run", delayed.runId])).stdout).toMatch(/reason\s+wrong customer/);
    expect(json((await store.run(["cancel", delayed.runId, "--json"])).stdout)).toMatchObject({
      cancelled: false,
      reason: "wrong customer",
    });
  }, 60_000);

  it("retry --wait and rerun --wait follow the new attempt to its end and print its output", async () => {
    const fixed = join(store.tmp, "fixed");
    const failed = await store.run([
      "submit",
      "observe",
      "--input",
      JSON.stringify({ failUnless: fixed }),
      "--wait",
      "--json",
    ]);
    expect(failed.code, failed.stderr).toBe(10);
    const runId = json(failed.stdout).runId as string;
    await writeFile(fixed, "");
    const retried = await store.run(["retry", runId, "--wait"]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(json(retried.stdout)).toEqual({ report: { lines: 3, attempt: 4, reported: true } });
    expect(retried.stderr).toMatch(/Retrying run \S+ \(attempt 2\)/);
    const rerun = await store.run(["rerun", runId, "--from", "report", "--wait", "--json"]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(json(rerun.stdout)).toMatchObject({ status: "completed", output: { report: { reported: true } } });
  }, 60_000);

  it("runs --watch refreshes the list until Ctrl-C (exit 0)", async () => {
    const child = spawn(
      process.execPath,
      [CAIRN_BIN, "runs", "--watch", "--interval", "200ms", "--workflow", "hello", "--backend", store.url],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await until("the first page", async () => /refreshing every 200ms/.test(out), 15_000);
    const { runId } = json((await store.run(["submit", "hello", "--input", '{"name":"Linus"}', "--json"])).stdout);
    await until("the new run in the list", async () => new RegExp(`${runId}\\s+hello\\s+completed`).test(out), 15_000);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    // A reader that goes away (`cairn runs --watch | head -3`): the watch ends at its next write, exit 0, no EPIPE stack.
    const early = spawn(
      process.execPath,
      [CAIRN_BIN, "runs", "--watch", "--interval", "200ms", "--workflow", "hello", "--backend", store.url],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    early.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const earlyExit = new Promise<number | null>((resolve) => early.on("close", resolve));
    await new Promise<void>((resolve) =>
      early.stdout.once("data", () => {
        early.stdout.destroy();
        resolve();
      }),
    );
    await store.run(["submit", "hello", "--input", '{"name":"Edsger"}', "--wait"]);
    expect(await earlyExit, stderr).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Unhandled 'error'/);
  }, 60_000);
});

describe("analytics for people", () => {
  it("durations in ms/s, percentages with their unit, an unknown fingerprint exits 4 with a message", async () => {
    await store.run(["submit", "observe", "--input", JSON.stringify({ failAttempts: 1 }), "--wait"]);
    const durations = await store.run(["analytics", "durations"]);
    expect(durations.code, durations.stderr).toBe(0);
    expect(durations.stdout).not.toMatch(/Us\b|averageUs/);
    expect(durations.stdout).toMatch(/completed\s+avg \d+(\.\d)?(ms|s) · p50/);
    const success = await store.run(["analytics", "success"]);
    expect(success.stdout).toMatch(/runs\s+\d+(\.\d)?% completed, \d+(\.\d)?% failed/);
    const errors = await store.run(["analytics", "errors"]);
    const fingerprint = /^ {2}([0-9a-f:]{16,})\s+\d+/m.exec(errors.stdout)?.[1];
    expect(fingerprint, errors.stdout).toBeDefined();
    const detail = await store.run(["analytics", "error", fingerprint!]);
    expect(detail.code, detail.stderr).toBe(0);
    expect(detail.stdout).toMatch(/UpstreamError: the upstream service/);
    const unknown = await store.run(["analytics", "error", "ffffffffffff"]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/No error has fingerprint "ffffffffffff".*cairn analytics errors/);
    expect(unknown.stdout).toBe("");
    expect(json((await store.run(["analytics", "error", "ffffffffffff", "--json"])).stderr).error.code).toBe(
      "FINGERPRINT_NOT_FOUND",
    );
  }, 60_000);
});

describe("conventions", () => {
  it("unknown commands and options get a suggestion in our words (exit 2), as JSON on stderr with --json; help has examples", async () => {
    const cmd = await store.run(["sumbit", "hello"]);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toBe('cairn: "sumbit" is not a command. Did you mean `cairn submit`? See `cairn --help`.\n');
    const opt = await store.run(["runs", "--stauts", "failed"]);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/^cairn runs: unknown option --stauts\. Did you mean --status\?/);
    const missing = await store.run(["logs", "--json"]);
    expect(missing.code).toBe(2);
    expect(json(missing.stderr)).toEqual({
      error: { code: "USAGE", message: "missing <runId>. See `cairn logs --help`." },
    });
    const help = await store.run(["logs", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: cairn logs \[options\] <runId> \[stepId\]/);
    expect(help.stdout).toMatch(/Examples:\n {2}\$ cairn logs/);
    expect(help.stdout).toContain("--follow");
  }, 30_000);

  it("on a real terminal tables fit its width and have colour; NO_COLOR turns colour off", async () => {
    await store.run([
      "submit",
      "observe",
      "--input",
      JSON.stringify({ failAttempts: 1 }),
      "--tag",
      "a-rather-long-tag-to-make-the-table-wide",
      "--wait",
    ]);
    const inTerminal = (env: string) =>
      new Promise<string>((resolve) => {
        // `script` gives the CLI a real pseudo-terminal, 60 columns wide.
        const child = spawn(
          "script",
          [
            "-qec",
            `stty cols 60 rows 50; ${env} ${process.execPath} ${CAIRN_BIN} runs --backend ${store.url}`,
            "/dev/null",
          ],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.on("close", () => resolve(out));
      });
    const coloured = await inTerminal("");
    // eslint-disable-next-line no-control-regex
    const plain = coloured.replace(/\x1b\[[0-9;]*m/g, "").replace(/\r/g, "");
    expect(plain).toMatch(/RUN\s+WORKFLOW\s+STATUS/);
    for (const line of plain.split("\n")) expect([...line].length, line).toBeLessThanOrEqual(60);
    expect(coloured).toContain("\x1b[32mcompleted");
    expect(await inTerminal("NO_COLOR=1")).not.toContain("\x1b[");
  }, 30_000);
});
