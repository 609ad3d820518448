/**
 * Durable waits end to end, through real `cairn worker` processes and the real CLI, on every driver: a sleeping step
 * survives a `kill -9` of its worker (the wait holds no slot; another worker wakes it, the work before the sleep is
 * replayed, not redone); the approval example waits for a signal sent with `cairn signal` (shown as waiting by `cairn
 * runs --status waiting` and `cairn run`; a bad payload or an unknown run writes nothing); a poll calls its check on a
 * durable schedule until the outside result appears; `cairn pause` / `cairn resume --patch` gate a run. The second
 * worker runs steps in child processes (`--isolation process`), so that path is covered as well. The test waits for
 * each state through a Backend of its own (a CLI process per poll would cost a second each); what the CLI shows is
 * then checked once with the CLI.
 */
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openBackend } from "../src/index.js";
import { cairn, startWorkerProcess, until, type WorkerProcess } from "./support/cli-process.js";
import { DRIVERS } from "./support/drivers.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/waits/", import.meta.url));
const APPROVAL = fileURLToPath(new URL("../../../examples/workflows/approval/", import.meta.url));
const TIMINGS = ["--heartbeat-ms", "250", "--stale-ms", "1500", "--poll-ms", "100", "--json"];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const driver of Object.values(DRIVERS)) {
  const reason = driver.unavailable();
  (reason === null ? describe : describe.skip)(
    `waits e2e on ${driver.name}${reason ? ` (skipped: ${reason})` : ""}`,
    () => {
      it("a sleep survives kill -9; an approval signal via the CLI; a poll; pause and resume with a patch", async () => {
        const { url, cleanup } = await driver.create();
        const dir = await mkdtemp(join(tmpdir(), `cairn-waits-${driver.name}-`));
        for (const name of ["sleeper", "poller"]) await symlink(join(FIXTURES, name), join(dir, name));
        await symlink(APPROVAL, join(dir, "approval"));
        const env = { CAIRN_BACKEND: url, CAIRN_WORKFLOWS: dir };
        const run = (args: string[]) => cairn(args, { env });
        const json = async (args: string[]): Promise<Json> => {
          const r = await run([...args, "--json"]);
          if (r.code !== 0) throw new Error(`cairn ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
          return JSON.parse(r.stdout) as Json;
        };
        const backend = await openBackend(url);
        const status = async (runId: string): Promise<string | undefined> => (await backend.getRun(runId))?.status;
        const isWaiting = async (runId: string) =>
          (await backend.listWaitingRuns({ limit: 100 })).some((w) => w.run.runId === runId);
        const workers: WorkerProcess[] = [];
        try {
          // ── A sleep survives kill -9 ──
          const a = startWorkerProcess(["--workflows", dir, "--worker-id", "a", ...TIMINGS], { env });
          workers.push(a);
          await until("worker a to start", async () => a.output().includes('"worker:started"'), 30_000);
          const sleeper = (await json(["submit", "sleeper", "--input", JSON.stringify({ ms: 4000 })])).runId as string;
          await until("the sleeper to wait", () => isWaiting(sleeper), 20_000, 100);
          const waiting = ((await json(["runs", "--status", "waiting"])) as unknown as Json[]).find(
            (r) => r.runId === sleeper,
          );
          expect(waiting).toMatchObject({
            status: "waiting",
            waitingStep: "nap",
            waiting: { kind: "sleep", name: "rest" },
          });
          await a.stop("SIGKILL");
          // Worker b runs each attempt in a child process: waits, signals, polls and ctx.state go through that path too.
          const b = startWorkerProcess(["--workflows", dir, "--worker-id", "b", "--isolation", "process", ...TIMINGS], {
            env,
          });
          workers.push(b);
          await until("the sleeper to complete", async () => (await status(sleeper)) === "completed", 30_000, 250);
          const slept = await json(["run", sleeper]);
          expect(slept.run.output.nap).toMatchObject({ sleptIn: a.pid, attempt: 2 });
          expect([a.pid, b.pid]).not.toContain(slept.run.output.nap.wokeIn); // woken in one of b's step processes
          const attempts = (slept.steps as Json[]).find((s) => s.stepId === "nap")!.attempts as Json[];
          expect(attempts.map((x) => [x.attemptNumber, x.outcome, x.workerId])).toEqual([
            [1, "waited", "a"],
            [2, "completed", "b"],
          ]);

          // ── The approval example: a signal via the CLI wakes the waiting step ──
          const approval = (
            await json(["submit", "approval", "--input", JSON.stringify({ amount: 40, timeout: "1h" })])
          ).runId as string;
          await until("the approval to wait", () => isWaiting(approval), 20_000, 100);
          expect(
            ((await json(["runs", "--status", "waiting"])) as unknown as Json[]).some((r) => r.runId === approval),
          ).toBe(true);
          const page = await run(["run", approval]);
          expect(page.stdout).toMatch(/waits for signal approval until/);
          const bad = await run(["signal", approval, "approval", "--payload", "{nope"]);
          expect(bad.code).toBe(2);
          expect((await run(["signal", "run-that-does-not-exist", "approval"])).code).toBe(4);
          expect(((await json(["run", approval])).run.signals ?? []).length).toBe(0);
          const sent = await run([
            "signal",
            approval,
            "approval",
            "--payload",
            JSON.stringify({ approved: true, by: "ann" }),
            "--id",
            "decision-1",
          ]);
          expect(sent.code, sent.stderr).toBe(0);
          await until("the approval to complete", async () => (await status(approval)) === "completed", 30_000, 250);
          expect((await json(["run", approval])).run.output).toEqual({
            settle: { paid: true, reason: "decided by ann" },
          });
          expect((await run(["signal", approval, "approval"])).code).toBe(1); // ended: a typed error, nothing written

          // ── A poll checks on its schedule until the outside result appears ──
          const file = join(dir, "result.txt");
          const poller = (await json(["submit", "poller", "--input", JSON.stringify({ file })])).runId as string;
          await until("the poller to have waited once", () => isWaiting(poller), 30_000, 100);
          await writeFile(file, "batch done\n");
          await until("the poller to complete", async () => (await status(poller)) === "completed", 30_000, 250);
          const polled = (await json(["run", poller])).run.output["wait-file"] as Json;
          expect(polled.content).toBe("batch done");
          expect(polled.attempt).toBeGreaterThan(1);

          // ── Pause holds a run; resume continues it with the patch in ctx.state ──
          // Submitted for 3 s from now, so the pause normally lands before anything of it runs; on a slow machine an
          // attempt may have started first: it finishes (here: it sleeps), and nothing starts after the pause. The check
          // comes 2 s after the run became available (the workers poll every 100 ms).
          const paused = (await json(["submit", "sleeper", "--input", JSON.stringify({ ms: 200 }), "--delay", "3s"]))
            .runId as string;
          const pause = await run(["pause", paused, "--reason", "hold"]);
          expect(pause.code, pause.stderr).toBe(0);
          await new Promise((r) => setTimeout(r, 5000));
          const held = await json(["run", paused]);
          expect(held.run.status).not.toBe("completed");
          const heldAttempts = (held.steps as Json[]).flatMap((st) => st.attempts as Json[]);
          expect(
            heldAttempts.every((x) => x.outcome !== "completed" && x.startedAtUs < held.run.paused.atUs),
            JSON.stringify(heldAttempts),
          ).toBe(true);
          expect((await run(["run", paused])).stdout).toMatch(/paused\s+since/);
          const resumed = await run(["resume", paused, "--patch", JSON.stringify({ approvedBy: "ops" })]);
          expect(resumed.code, resumed.stderr).toBe(0);
          await until("the resumed run to complete", async () => (await status(paused)) === "completed", 30_000, 250);
          expect((await json(["run", paused])).run.output.nap.state).toEqual({ approvedBy: "ops" });
          expect((await run(["pause", paused])).code).not.toBe(0);
        } finally {
          for (const w of workers) await w.stop("SIGKILL");
          await backend.close();
          await rm(dir, { recursive: true, force: true });
          await cleanup();
        }
      }, 180_000);
    },
  );
}
