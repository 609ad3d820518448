import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { Backend } from "@cairn/backend-interface";
import { openBackend, submit } from "../src/index.js";
import { CAIRN_BIN, until } from "./support/cli-process.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/workflows", import.meta.url));
const children: ChildProcess[] = [];
let dir: string | undefined;
let backend: Backend | undefined;

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await backend?.close().catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts `cairn <args>` and resolves with the first match of `pattern` in its output (and the process). */
function startCairn(args: string[], pattern: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [CAIRN_BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CAIRN_POLL_MS: "50", CAIRN_PRESENCE_MS: "200" },
  });
  children.push(child);
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cairn ${args[0]} did not print ${pattern}:\n${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const match = pattern.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("close", (code) => reject(new Error(`cairn ${args[0]} exited ${code}:\n${out}`)));
  });
}

/** The value of one series in a Prometheus text exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("Prometheus metrics", () => {
  it("cairn worker --metrics-port and cairn dashboard's /metrics expose the series, with low-cardinality labels", async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-metrics-"));
    const url = `sqlite:${join(dir, "cairn.db")}`;
    const worker = await startCairn(
      ["worker", "--workflows", EXAMPLES, "--backend", url, "--metrics-port", "0", "--concurrency", "3"],
      /metrics at (http:\/\/\S+\/metrics)/,
    );
    const dashboard = await startCairn(
      ["dashboard", "--port", "0", "--backend", url, "--json"],
      /"url":"(http:[^"]+)"/,
    );
    backend = await openBackend(url);
    const b = backend;
    await until("workflows registered", async () => (await b.getWorkflowMetadata("flaky")) !== null);
    const runs = [
      (await submit(b, { workflow: "hello", input: { name: "Ada" } })).runId,
      (await submit(b, { workflow: "hello", input: { name: "Bo" } })).runId,
      (await submit(b, { workflow: "flaky" })).runId,
    ];
    await submit(b, { workflow: "hello", input: { name: "Later" }, availableAtUs: b.clock.nowUs() + 3_600_000_000 });
    await until(
      "runs completed",
      async () => (await Promise.all(runs.map((r) => b.getRun(r)))).every((r) => r?.status === "completed"),
      20_000,
    );

    const workerUrl = worker.match[1]!;
    const scrape = async (u: string) => {
      const res = await fetch(u);
      expect(res.headers.get("content-type")).toContain("text/plain");
      return res.text();
    };
    // The run-duration observation follows the write that ended the run: wait for it rather than race it.
    const w = await until("run durations observed", async () => {
      const t = await scrape(workerUrl);
      return (sample(t, 'cairn_run_duration_seconds_count{workflow="flaky",status="completed"}') ?? 0) >= 1 ? t : null;
    });
    expect(sample(w, 'cairn_run_duration_seconds_count{workflow="hello",status="completed"}')).toBe(2);
    expect(sample(w, 'cairn_step_retries_total{workflow="flaky",step="call-api"}')).toBe(2);
    expect(sample(w, 'cairn_step_duration_seconds_count{workflow="flaky",step="call-api",outcome="retried"}')).toBe(2);
    expect(sample(w, 'cairn_step_duration_seconds_count{workflow="hello",step="greet",outcome="completed"}')).toBe(2);
    expect(sample(w, 'cairn_steps_total{workflow="hello",outcome="completed"}')).toBe(4);
    expect(sample(w, 'cairn_step_schedule_to_start_seconds_count{workflow="hello"}')).toBe(4);
    expect(sample(w, 'cairn_worker_slots{state="busy"}')).toBe(0);
    expect(sample(w, 'cairn_worker_slots{state="free"}')).toBe(3);
    expect(w).toContain("# TYPE cairn_step_duration_seconds histogram");

    const d = await scrape(`${dashboard.match[1]!}/metrics`);
    expect(sample(d, 'cairn_runs{workflow="hello",status="completed"}')).toBe(2);
    expect(sample(d, 'cairn_runs{workflow="hello",status="pending"}')).toBe(1);
    expect(sample(d, 'cairn_runs{workflow="flaky",status="completed"}')).toBe(1);
    expect(sample(d, 'cairn_queue_depth{kind="runs",state="delayed"}')).toBe(1);
    expect(sample(d, 'cairn_queue_depth{kind="runs",state="ready"}')).toBe(0);
    expect(sample(d, "cairn_oldest_pending_run_age_seconds")).toBeGreaterThan(0);
    expect(sample(d, "cairn_oldest_ready_step_age_seconds")).toBe(0);
    expect(sample(d, "cairn_workers_active")).toBe(1);
    expect(sample(d, 'cairn_active_worker_slots{state="free"}')).toBe(3);
    for (const text of [w, d]) {
      expect(text).not.toMatch(/run_[0-9a-z]{10,}/); // never a run id
      expect(text).not.toContain(worker.child.pid!.toString() + "-"); // never a worker id
    }
    worker.child.kill("SIGTERM");
    dashboard.child.kill("SIGTERM");
    await until(
      "processes stopped",
      async () => worker.child.exitCode !== null && dashboard.child.exitCode !== null,
      15_000,
    );
    expect([worker.child.exitCode, dashboard.child.exitCode]).toEqual([0, 0]);
  });
});
