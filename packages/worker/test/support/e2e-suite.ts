import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "@cairn/backend-interface";
import { openBackend } from "../../src/index.js";
import { cairn, startWorkerProcess, until, type WorkerProcess } from "./cli-process.js";
import type { DriverCase } from "./drivers.js";

const EXAMPLES = fileURLToPath(new URL("../../../../examples/workflows/", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));
/** Fast timings so crash recovery and cancellation take a second or two. */
const FAST = ["--heartbeat-ms", "200", "--stale-ms", "1500", "--poll-ms", "100"];

/** The end-to-end suite: the real CLI and real worker processes against one driver. */
export function defineE2eSuite(driver: DriverCase, options: { isolation?: boolean } = {}): void {
  const reason = driver.unavailable();
  (reason === null ? describe : describe.skip)(`e2e on ${driver.name}${reason ? ` (skipped: ${reason})` : ""}`, () => {
    let url = "";
    let cleanup: () => Promise<void> = async () => {};
    let tmp = "";
    let mainDir = "";
    let soloDir = "";
    let backend: Backend;
    let w1: WorkerProcess;
    const env = () => ({ CAIRN_BACKEND: url });
    const json = <T = any>(text: string): T => JSON.parse(text) as T;

    beforeAll(async () => {
      ({ url, cleanup } = await driver.create());
      tmp = await mkdtemp(join(tmpdir(), `cairn-e2e-${driver.name}-`));
      mainDir = join(tmp, "main");
      soloDir = join(tmp, "solo");
      await mkdir(mainDir);
      await mkdir(soloDir);
      for (const wf of ["etl", "flaky", "conditional", "signup", "hello"])
        await symlink(join(EXAMPLES, wf), join(mainDir, wf));
      await symlink(join(FIXTURES, "slow"), join(mainDir, "slow"));
      await symlink(join(FIXTURES, "slow"), join(soloDir, "solo-slow")); // a workflow only the crash/shutdown workers know
      backend = await openBackend(url);
      w1 = startWorkerProcess(["--workflows", mainDir, "--concurrency", "4", ...FAST], { env: env() });
      await until(
        "the main worker to register its workflows",
        async () => (await backend.getWorkflowMetadata("slow")) !== null,
        30_000,
      );
    }, 60_000);

    afterAll(async () => {
      const exit = await w1?.stop("SIGTERM");
      await backend?.close();
      await cleanup();
      await rm(tmp, { recursive: true, force: true });
      expect(exit?.code, w1?.output()).toBe(0);
    }, 30_000);

    it("submit --wait runs a DAG with parallel branches and prints its exported output; runs, run and logs show it", async () => {
      const r = await cairn(["submit", "etl", "--input", '{"rows":30}', "--wait", "--json"], { env: env() });
      expect(r.code, r.stderr).toBe(0);
      const out = json(r.stdout);
      expect(out.status).toBe("completed");
      expect(out.output).toEqual({ load: { loaded: 27, high: 15 } });
      const steps = await backend.loadRun("etl", out.runId);
      expect(steps.map((s) => `${s.stepId}:${s.status}`).sort()).toEqual([
        "extract:completed",
        "load:completed",
        "transform/clean:completed",
        "transform/enrich:completed",
      ]);
      // The two transforms ran in parallel: each started before the other ended.
      const [clean, enrich] = ["transform/clean", "transform/enrich"].map((id) => steps.find((s) => s.stepId === id)!);
      expect(clean!.startTimeUs!).toBeLessThan(enrich!.endTimeUs!);
      expect(enrich!.startTimeUs!).toBeLessThan(clean!.endTimeUs!);
      const human = await cairn(["run", out.runId], { env: env() });
      expect(human.stdout).toMatch(/transform\/enrich\s+completed/);
      const runs = await cairn(["runs", "--workflow", "etl", "--json"], { env: env() });
      expect(json<Array<{ runId: string }>>(runs.stdout).map((x) => x.runId)).toContain(out.runId);
      const logs = await cairn(["logs", out.runId, "load"], { env: env() });
      expect(logs.stdout).toContain("loading 27 rows");
    }, 60_000);

    it("retries a transiently failing step until it succeeds", async () => {
      const r = await cairn(["submit", "flaky", "--wait", "--json"], { env: env() });
      expect(r.code, r.stderr).toBe(0);
      expect(json(r.stdout).output).toEqual({ "call-api": { status: 200, attempt: 3 } });
      const step = await backend.getStepState("flaky", json(r.stdout).runId, "call-api");
      expect(step?.attemptNumber).toBe(3);
    }, 60_000);

    it("a step that skips itself cascade-skips its dependents; the rest completes", async () => {
      const r = await cairn(["submit", "conditional", "--wait", "--json"], { env: env() });
      expect(r.code, r.stderr).toBe(0);
      const out = json(r.stdout);
      expect(out.output).toEqual({ report: { ok: true } });
      const steps = new Map((await backend.loadRun("conditional", out.runId)).map((s) => [s.stepId, s]));
      expect(steps.get("notify")).toMatchObject({ status: "skipped", skipType: "primary" });
      expect(steps.get("audit")).toMatchObject({ status: "skipped", skipType: "cascade", cascadedFrom: "notify" });
    }, 60_000);

    it("an invalid input is refused at submit with every field path (exit 2), and no run is created", async () => {
      const before = (await backend.listRuns({ workflowSlug: "signup" })).length;
      const r = await cairn(["submit", "signup", "--input", '{"email":"not-an-email","age":3}', "--wait", "--json"], {
        env: env(),
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe("");
      const { error } = json<{
        error: { code: string; message: string; validationErrors: Array<{ path: string; message: string }> };
      }>(r.stderr);
      expect(error.code).toBe("INVALID_INPUT");
      expect(error.validationErrors.map((e) => e.path).sort()).toEqual(["age", "email"]);
      const human = await cairn(["submit", "signup", "--input", '{"email":"not-an-email","age":3}'], { env: env() });
      expect(human.code).toBe(2);
      expect(human.stderr).toMatch(/email: must match format "email"/);
      expect(human.stderr).toMatch(/age: must be >= 13/);
      expect(await backend.listRuns({ workflowSlug: "signup" })).toHaveLength(before);
      const ok = await cairn(
        ["submit", "signup", "--input", '{"email":"ada@example.com","age":36}', "--wait", "--json"],
        { env: env() },
      );
      expect(ok.code, ok.stderr).toBe(0);
    }, 60_000);

    it("submitting a workflow no worker has registered is WORKFLOW_NOT_FOUND (exit 4), and no run is created", async () => {
      const r = await cairn(["submit", "never-registered", "--json"], { env: env() });
      expect(r.code, r.stderr).toBe(4);
      expect(json<{ error: { code: string } }>(r.stderr).error.code).toBe("WORKFLOW_NOT_FOUND");
      expect(await backend.listRuns({ workflowSlug: "never-registered" })).toEqual([]);
    }, 60_000);

    it("submits idempotently: the same key returns the same run; another input conflicts (exit 5)", async () => {
      const args = ["submit", "hello", "--input", '{"name":"Ada"}', "--idempotency-key", "k-1", "--json"];
      const a = json((await cairn(args, { env: env() })).stdout);
      const b = json((await cairn(args, { env: env() })).stdout);
      expect(a.isNew).toBe(true);
      expect(b).toMatchObject({ runId: a.runId, isNew: false });
      const c = await cairn(["submit", "hello", "--input", '{"name":"Bob"}', "--idempotency-key", "k-1"], {
        env: env(),
      });
      expect(c.code).toBe(5);
      expect(c.stderr).toContain("different input");
      await until(
        "the idempotent run to complete",
        async () => (await backend.getRun(a.runId))?.status === "completed",
      );
    }, 60_000);

    it("cairn retry re-runs a failed run's failed step, keeping its attempt history, and the run completes", async () => {
      const fixed = join(tmp, `fixed-${Date.now()}`);
      const failed = await cairn(
        ["submit", "slow", "--input", JSON.stringify({ ms: 1, failUnless: fixed }), "--wait", "--json"],
        { env: env() },
      );
      expect(failed.code, failed.stderr).toBe(10);
      const runId = json(failed.stdout).runId as string;
      expect((await backend.getRun(runId))?.status).toBe("failed");
      await writeFile(fixed, "");
      const r = await cairn(["retry", runId, "--json"], { env: env() });
      expect(r.code, r.stderr).toBe(0);
      expect(json(r.stdout)).toMatchObject({ runId, workflowAttemptNumber: 2, retriedSteps: ["wait"] });
      await until(
        "the retried run to complete",
        async () => (await backend.getRun(runId))?.status === "completed",
        20_000,
      );
      expect((await backend.getStepState("slow", runId, "wait"))?.attemptNumber).toBe(4);
      const again = await cairn(["retry", runId], { env: env() });
      expect(again.code).toBe(5);
      expect(again.stderr).toMatch(/only a failed run can be retried/);
    });

    it("cancel reaches a running step through its AbortSignal within a heartbeat", async () => {
      const { runId } = json(
        (await cairn(["submit", "slow", "--input", '{"ms":30000}', "--json"], { env: env() })).stdout,
      );
      await until(
        "the slow step to run",
        async () => (await backend.getStepState("slow", runId, "wait"))?.status === "running",
      );
      const r = await cairn(["cancel", runId], { env: env() });
      expect(r.code, r.stderr).toBe(0);
      const cancelledAt = Date.now();
      const step = await until(
        "the step to stop",
        async () => {
          const s = await backend.getStepState("slow", runId, "wait");
          return s?.status === "failed" ? s : null;
        },
        10_000,
      );
      expect(step.failureReason).toBe("cancelled");
      expect(Date.now() - cancelledAt).toBeLessThan(5000);
      expect((await backend.getRun(runId))?.status).toBe("cancelled");
    }, 60_000);

    it("reruns from a step, keeping the results of the steps before it", async () => {
      const parent = json(
        (await cairn(["submit", "etl", "--input", '{"rows":10}', "--wait", "--json"], { env: env() })).stdout,
      );
      const r = await cairn(["rerun", parent.runId, "--from", "transform/clean", "--json"], { env: env() });
      expect(r.code, r.stderr).toBe(0);
      const child = json(r.stdout);
      expect(child.rerunStepIds.sort()).toEqual(["load", "transform/clean"]);
      await until(
        "the rerun to complete",
        async () => (await backend.getRun(child.runId))?.status === "completed",
        20_000,
      );
      const events = await backend.loadEvents("etl", child.runId, { category: "step" });
      expect(events.some((e) => e.type === "StepStarted" && e.stepId === "extract")).toBe(false);
      expect(events.some((e) => e.type === "StepStarted" && e.stepId === "transform/clean")).toBe(true);
      expect((await backend.getRun(child.runId))?.output).toBe((await backend.getRun(parent.runId))?.output);
    }, 60_000);

    it("kill -9 of a worker mid-step: another worker reclaims the step and finishes the run", async () => {
      const marker = join(tmp, "crash-marker");
      const victim = startWorkerProcess(["--workflows", soloDir, ...FAST], { env: env() });
      await until(
        "the victim worker to register",
        async () => (await backend.getWorkflowMetadata("solo-slow")) !== null,
        30_000,
      );
      const { runId } = json(
        (
          await cairn(["submit", "solo-slow", "--input", JSON.stringify({ ms: 1000, marker }), "--json"], {
            env: env(),
          })
        ).stdout,
      );
      await until("the step function to start on the victim", async () =>
        (await readFile(marker, "utf8").catch(() => "")).includes("start 1"),
      );
      victim.child.kill("SIGKILL");
      expect((await victim.exited).signal).toBe("SIGKILL");
      const rescuer = await cairn(["worker", "--workflows", soloDir, "--once", ...FAST], {
        env: env(),
        timeoutMs: 30_000,
      });
      expect(rescuer.code, rescuer.stderr).toBe(0);
      // Any live worker may reap the stale step (the main worker too); the rescuer then finishes the run.
      const run = await backend.getRun(runId);
      expect(run?.status).toBe("completed");
      const step = await backend.getStepState("solo-slow", runId, "wait");
      expect(step).toMatchObject({ status: "completed", attemptNumber: 2, wasReclaimed: true });
      const lines = (await readFile(marker, "utf8"))
        .trim()
        .split("\n")
        .map((l) => l.split(" ").slice(0, 2).join(" "));
      expect(lines).toEqual(["start 1", "start 2", "done 2"]);
    }, 60_000);

    it("graceful shutdown lets short steps finish and releases long ones for another worker at once", async () => {
      const short = json(
        (
          await cairn(["submit", "solo-slow", "--workflows", soloDir, "--input", '{"ms":1500}', "--json"], {
            env: env(),
          })
        ).stdout,
      ).runId as string;
      const long = json(
        (await cairn(["submit", "solo-slow", "--input", '{"ms":60000}', "--json"], { env: env() })).stdout,
      ).runId as string;
      const w = startWorkerProcess(["--workflows", soloDir, "--grace-ms", "2500", ...FAST], { env: env() });
      await until(
        "both steps to run",
        async () =>
          (await backend.getStepState("solo-slow", short, "wait"))?.status === "running" &&
          (await backend.getStepState("solo-slow", long, "wait"))?.status === "running",
      );
      const exit = await w.stop("SIGTERM");
      expect(exit.code, w.output()).toBe(0);
      expect(w.output()).toMatch(/released/);
      expect((await backend.getStepState("solo-slow", short, "wait"))?.status).toBe("completed");
      const released = await backend.getStepState("solo-slow", long, "wait");
      expect(released).toMatchObject({ status: "scheduled", attemptNumber: 2 });
      expect(released!.availableAtUs!).toBeLessThanOrEqual(backend.clock.nowUs());
      await backend.cancelRun(long);
      await backend.cancelRun(short);
    }, 60_000);

    // Child-process isolation does not depend on the driver: checked on one driver to keep the suite fast.
    it.runIf(options.isolation === true)(
      "with --isolation process a step that kills its process is recorded as worker-crash and retried; the worker survives",
      async () => {
        const crashy = join(tmp, "crashy");
        await mkdir(crashy);
        await symlink(join(FIXTURES, "crashy"), join(crashy, "crashy"));
        const sub = await cairn(["submit", "crashy", "--workflows", crashy, "--json"], { env: env() });
        expect(sub.code, sub.stderr).toBe(0);
        const { runId } = json(sub.stdout);
        const w = await cairn(["worker", "--workflows", crashy, "--once", "--isolation", "process", ...FAST], {
          env: env(),
          timeoutMs: 40_000,
        });
        expect(w.code, w.stderr).toBe(0);
        const run = await backend.getRun(runId);
        expect(run?.status, w.stderr).toBe("completed");
        const failures = (await backend.loadEvents("crashy", runId, { category: "step" })).filter(
          (e) => e.type === "StepFailed",
        );
        expect(failures.map((e) => e.type === "StepFailed" && e.failureReason)).toEqual(["worker-crash"]);
        const logs = await cairn(["logs", runId, "explode"], { env: env() });
        expect(logs.stdout).toContain("explode attempt 2");
      },
      60_000,
    );

    it("reports bad workflow folders with their file and what was expected, and still runs the good ones", async () => {
      const bad = join(FIXTURES, "bad");
      const sub = await cairn(["submit", "good", "--workflows", bad, "--json"], { env: env() });
      expect(sub.code, sub.stderr).toBe(0);
      for (const expected of [
        /bad\/cycle\/steps\/a\.ts: dependency cycle: a → b → a/,
        /bad\/duplicate\/steps\/a\.ts: duplicate step id "a"/,
        /bad\/no-default\/workflow\.ts: expected `export default defineWorkflow/,
        /bad\/no-workflow-file\/workflow\.ts: missing workflow file/,
        /bad\/not-a-step\/steps\/a\.ts: expected `export default defineStep/,
        /bad\/unknown-dep\/steps\/a\.ts: step "a" depends on unknown step "missing"/,
        /bad\/wrong-slug\/workflow\.ts: defineWorkflow says slug "other" but the folder is "wrong-slug"/,
      ])
        expect(sub.stderr).toMatch(expected);
      const w = await cairn(["worker", "--workflows", bad, "--once", ...FAST], { env: env(), timeoutMs: 30_000 });
      expect(w.code, w.stderr).toBe(0);
      expect(w.stderr).toMatch(/unknown-dep\/steps\/a\.ts/);
      expect((await backend.getRun(json(sub.stdout).runId))?.status).toBe("completed");
      const check = await cairn(["workflows", "--workflows", bad], { env: env() });
      expect(check.code).toBe(6);
      expect(await backend.getWorkflowMetadata("cycle")).toBeNull();
    }, 60_000);
  });
}
