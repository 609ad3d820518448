import { describe, expect, it } from "vitest";
import type { StepRef } from "@cairn/backend-interface";
import { resolveCapabilities, type ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { withChildren, type ProcessPool } from "./support/processes.js";
import {
  WF,
  claim,
  complete,
  countEvents,
  failAndRetry,
  failTerminally,
  runWithSteps,
  schedule,
  sleep,
  submit,
  tryClaim,
} from "./support/scenario.js";

type Won = StepRef & { attemptNumber: number };
const key = (r: StepRef) => `${r.runId}/${r.stepId}`;

/** claimScheduledStep: refusals, exclusivity across real processes, and crashed claimers. */
export function claimTests(h: ConformanceHarness, procs: ProcessPool): void {
  const caps = resolveCapabilities(h);

  describe("claims: when a step is claimable", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("claims a scheduled, available step once: running, claimedBy, attempt 1, one StepStarted", async () => {
      const { backend, clock } = t;
      const {
        steps: [ref],
      } = await runWithSteps(backend, ["s"]);
      expect(await backend.isStepClaimable(WF, ref!.runId, "s")).toBe(true);
      expect(await claim(backend, ref!, "w-a")).toBe(1);
      const state = await backend.getStepState(WF, ref!.runId, "s");
      expect(state).toMatchObject({
        status: "running",
        claimedBy: "w-a",
        attemptNumber: 1,
        startTimeUs: clock.nowUs(),
      });
      expect(await tryClaim(backend, ref!, "w-b")).toBeNull();
      expect(await backend.isStepClaimable(WF, ref!.runId, "s")).toBe(false);
      expect(await countEvents(backend, ref!, "StepStarted")).toBe(1);
    });

    it("refuses (null, nothing written) steps not yet available, pending, running, completed, failed, skipped, unknown, or of a cancelled or finished run", async () => {
      const { backend, clock } = t;
      const now = clock.nowUs();
      const runId = await submit(backend);
      const [later] = await schedule(backend, WF, runId, ["later"], { availableAt: now + 1_000_000 });
      const [running, done, failed, skipped] = await schedule(backend, WF, runId, [
        "running",
        "done",
        "failed",
        "skipped",
      ]);
      await claim(backend, running!);
      await complete(backend, done!, await claim(backend, done!));
      await failTerminally(backend, failed!, await claim(backend, failed!));
      await backend.saveStepSkipped(WF, runId, "skipped", {
        skipType: "primary",
        reason: "not needed",
        duration: 0,
        attemptNumber: 1,
      });
      await backend.appendEvent(WF, runId, {
        eventId: "log-pending",
        timestampUs: now,
        workflowSlug: WF,
        runId,
        category: "step",
        stepId: "pending",
        type: "LogEntry",
        stream: "stdout",
        message: "x",
        attemptNumber: 1,
      });

      const cancelled = await runWithSteps(backend, ["s"]);
      await backend.cancelRun(cancelled.runId);
      const finished = await runWithSteps(backend, ["s"]);
      await backend.saveWorkflowComplete(
        WF,
        finished.runId,
        { ok: 1 },
        { workflowAttemptNumber: 1, timestamp: now, duration: 1, totalSteps: 1 },
      );
      const failedRun = await runWithSteps(backend, ["s"]);
      await backend.saveWorkflowFailed(
        WF,
        failedRun.runId,
        { message: "x" },
        { workflowAttemptNumber: 1, duration: 1, completedSteps: 0 },
        "step-failed",
      );

      const refs: Array<[string, StepRef]> = [
        ["not yet available", later!],
        ["pending", { workflowSlug: WF, runId, stepId: "pending" }],
        ["running", running!],
        ["completed", done!],
        ["failed", failed!],
        ["skipped", skipped!],
        ["unknown step", { workflowSlug: WF, runId, stepId: "nope" }],
        ["unknown run", { workflowSlug: WF, runId: "run-nope", stepId: "s" }],
        ["other workflow", { workflowSlug: "wf-other", runId, stepId: "later" }],
        ["cancelled run", cancelled.steps[0]!],
        ["completed run", finished.steps[0]!],
        ["failed run", failedRun.steps[0]!],
      ];
      for (const [label, ref] of refs) {
        const before = await countEvents(backend, ref, "StepStarted");
        expect(await tryClaim(backend, ref, "w-late"), label).toBeNull();
        expect(await backend.isStepClaimable(ref.workflowSlug, ref.runId, ref.stepId), label).toBe(false);
        expect(await countEvents(backend, ref, "StepStarted"), label).toBe(before);
      }
      clock.advanceMs(1000);
      expect(await tryClaim(backend, later!, "w-late")).toBe(1);
    });

    it("lets exactly one of many concurrent in-process claimers win each attempt", async () => {
      const { backend } = t;
      const { steps } = await runWithSteps(backend, ["a", "b", "c"]);
      for (let attempt = 1; attempt <= 2; attempt++) {
        const results = await Promise.all(
          steps.flatMap((ref) =>
            Array.from({ length: 6 }, (_, i) => tryClaim(backend, ref, `w${i}`).then((a) => ({ ref, a }))),
          ),
        );
        for (const ref of steps) {
          const wins = results.filter((r) => r.ref === ref && r.a !== null);
          expect(wins.map((w) => w.a)).toEqual([attempt]);
          expect(await countEvents(backend, ref, "StepStarted")).toBe(attempt);
        }
        for (const ref of steps) await failAndRetry(backend, ref, attempt);
      }
    });
  });

  describe("claims: saveStepStart and batch claims", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("saveStepStart goes through the claim guard: it starts a claimable step and throws STEP_NOT_CLAIMABLE otherwise", async () => {
      const { backend, clock } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(backend, ["s"]);
      await schedule(backend, WF, runId, ["later"], { availableAt: clock.nowUs() + 1_000 });
      const m = { dependencies: ["x"], timestamp: clock.nowUs(), attemptNumber: 1 };
      await backend.saveStepStart(WF, runId, "s", "w1", m);
      expect(await backend.getStepState(WF, runId, "s")).toMatchObject({
        status: "running",
        claimedBy: "w1",
        dependencies: ["x"],
      });
      await expectCode(backend.saveStepStart(WF, runId, "s", "w2", m), "STEP_NOT_CLAIMABLE", "already running");
      await expectCode(backend.saveStepStart(WF, runId, "later", "w2", m), "STEP_NOT_CLAIMABLE", "not yet available");
      await expectCode(backend.saveStepStart(WF, runId, "ghost", "w2", m), "STEP_NOT_CLAIMABLE", "unknown step");
      expect(await countEvents(backend, ref!, "StepStarted")).toBe(1);
    });

    it("claimScheduledSteps: concurrent batch claimers never share a step, highest priority first, limit honoured", async () => {
      const { backend } = t;
      const low = await runWithSteps(backend, ["l1", "l2", "l3", "l4"], { priority: 0 });
      const high = await runWithSteps(backend, ["h1", "h2"], { priority: 9 });
      const first = await backend.claimScheduledSteps("w-first", { limit: 2 });
      expect(first.map((r) => r.stepId).sort()).toEqual(["h1", "h2"]);
      for (const r of first) expect(r).toMatchObject({ workflowSlug: WF, runId: high.runId, attemptNumber: 1 });
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => backend.claimScheduledSteps(`w${i}`, { limit: 2 })),
      );
      for (const r of results) expect(r.length).toBeLessThanOrEqual(2);
      const claimed = results.flat().map((r) => r.stepId);
      expect(new Set(claimed).size).toBe(claimed.length);
      for (const ref of low.steps)
        expect(await countEvents(backend, ref, "StepStarted")).toBe(claimed.includes(ref.stepId) ? 1 : 0);
      expect(claimed.length).toBeGreaterThan(0);
      expect(await backend.claimScheduledSteps("w-last", { limit: 10, workflowSlug: "wf-none" })).toEqual([]);
    });
  });

  describe("claims: over several workflows", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF, "wf-other"] });

    it("claims the first ready steps in listing order across the scope's workflows, whatever the scope's order", async () => {
      const { backend } = t;
      const low = await runWithSteps(backend, ["a1", "a2"], { priority: 0 });
      const high = await runWithSteps(backend, ["o1"], { workflowSlug: "wf-other", priority: 9 });
      const scope = { [WF]: { a1: [], a2: [] }, "wf-other": { o1: [] } };
      const [first] = await backend.claimScheduledSteps("w1", { limit: 1, workflows: scope });
      expect(first).toMatchObject({ workflowSlug: "wf-other", runId: high.runId, stepId: "o1" });
      expect(await backend.claimScheduledSteps("w2", { limit: 5, workflows: { "wf-other": {} } })).toEqual([]);
      const rest = await backend.claimScheduledSteps("w2", { limit: 5, workflows: { "wf-none": {}, ...scope } });
      expect(rest.map((r) => `${r.workflowSlug}/${r.runId}/${r.stepId}`).sort()).toEqual(
        low.steps.map((r) => `${WF}/${low.runId}/${r.stepId}`).sort(),
      );
    });

    it("merges the workflows' ready steps in claim order, past another workflow's backlog ahead of them", async () => {
      const { backend } = t;
      const backlog = await runWithSteps(
        backend,
        Array.from({ length: 30 }, (_, i) => `o${String(i).padStart(2, "0")}`),
        { workflowSlug: "wf-other", priority: 9 },
      );
      const low = await runWithSteps(backend, ["a1", "a2"], { priority: 0 });
      const mid = await runWithSteps(backend, ["m1"], { priority: 5 });
      const ids = (refs: StepRef[]) => refs.map((r) => `${r.workflowSlug}/${r.stepId}`);
      // Listing and claiming one workflow: its own steps in claim order, none of the backlog ahead of them.
      expect(ids(await backend.listScheduledSteps({ workflowSlug: WF }))).toEqual([`${WF}/m1`, `${WF}/a1`, `${WF}/a2`]);
      const own = await backend.claimScheduledSteps("w1", { limit: 2, workflowSlug: WF });
      expect(own.map((r) => r.runId)).toEqual([mid.runId, low.runId]);
      // Every workflow: the backlog first (priority 9), then the rest.
      expect(ids(await backend.listScheduledSteps({ limit: 3 }))).toEqual([
        `wf-other/o00`,
        `wf-other/o01`,
        `wf-other/o02`,
      ]);
      const all = await backend.claimScheduledSteps("w2", { limit: 31 });
      expect(all.map((r) => r.runId)).toEqual([...Array.from({ length: 30 }, () => backlog.runId), low.runId]);
      expect(await backend.claimScheduledSteps("w3", { limit: 5, workflows: { [WF]: {}, "wf-other": {} } })).toEqual(
        [],
      );
    });
  });

  describe.skipIf(!caps.multiProcess)("claims: real processes", () => {
    const t = useInstance(h, { workflows: [WF, "wf-other"] });

    it("8 processes racing for the same steps: exactly one winner per step and attempt", async () => {
      const { backend } = t;
      const runA = await runWithSteps(backend, ["s1", "s2", "s3"]);
      const runB = await runWithSteps(backend, ["t1", "t2"], { workflowSlug: "wf-other" });
      const targets = [...runA.steps, ...runB.steps];
      await withChildren(procs, t.instance.opener, 8, async (group) => {
        for (let attempt = 1; attempt <= 3; attempt++) {
          const won = (await group.round<Won[]>((i) => ({ task: "claim", targets, workerId: `proc-${i}` }))).map(
            (list, i) => list.map((w) => ({ ...w, worker: `proc-${i}` })),
          );
          const flat = won.flat();
          for (const ref of targets) {
            const wins = flat.filter((w) => key(w) === key(ref));
            expect(wins, `${key(ref)} attempt ${attempt}`).toHaveLength(1);
            expect(wins[0]!.attemptNumber).toBe(attempt);
            const state = await backend.getStepState(ref.workflowSlug, ref.runId, ref.stepId);
            expect(state).toMatchObject({ status: "running", attemptNumber: attempt, claimedBy: wins[0]!.worker });
            expect(await countEvents(backend, ref, "StepStarted")).toBe(attempt);
          }
          if (attempt < 3) for (const ref of targets) await failAndRetry(backend, ref, attempt);
        }
      });
    }, 120_000);

    it("8 processes batch-claiming at once never claim one step twice", async () => {
      const { backend } = t;
      const { steps } = await runWithSteps(
        backend,
        Array.from({ length: 12 }, (_, i) => `b${i}`),
      );
      const won = await withChildren(procs, t.instance.opener, 8, (group) =>
        group.round<Won[]>((i) => ({ task: "claim-batch", workerId: `batch-${i}`, limit: 3 })),
      );
      const claimed = won.flat().map(key);
      expect(new Set(claimed).size, "no step claimed twice").toBe(claimed.length);
      expect(claimed.length).toBeGreaterThan(0);
      for (const list of won) expect(list.length).toBeLessThanOrEqual(3);
      for (const ref of steps)
        expect(await countEvents(backend, ref, "StepStarted")).toBe(claimed.includes(key(ref)) ? 1 : 0);
    }, 120_000);

    it("a claimer SIGKILLed at random moments never blocks a step: afterwards each step is claimable, or running and reclaimable", async () => {
      const { backend } = t;
      await backend.registerWorkflow({
        slug: WF,
        name: "loop",
        steps: ["k1", "k2", "k3"].map((id) => ({ id, name: id, maxRetries: 1_000_000 })),
      });
      const { steps } = await runWithSteps(backend, ["k1", "k2", "k3"]);
      await withChildren(
        procs,
        t.instance.opener,
        3,
        async (group) => {
          await group.start((i) => ({ task: "claim-loop", targets: steps, workerId: `looper-${i}` }));
          await Promise.all(
            [0, 1, 2].map(async (i) => {
              await sleep(100 + Math.floor(Math.random() * 500));
              await group.killOne(i);
            }),
          );
        },
        5,
      ); // the pool's last three children: the ones killed are respawned only if a later test needs them
      const started = Date.now();
      for (const ref of steps) {
        const state = await backend.getStepState(WF, ref.runId, ref.stepId);
        expect(["scheduled", "running"]).toContain(state?.status);
        expect(await countEvents(backend, ref, "StepStarted")).toBeGreaterThan(0);
      }
      await sleep(5);
      const reclaimed = await backend.reclaimStaleSteps(1, "reaper");
      for (const ref of steps) {
        const attempt = await tryClaim(backend, ref, "survivor");
        expect(
          attempt,
          `${ref.stepId} must be claimable after the crash (reclaimed: ${reclaimed.map((r) => r.stepId).join(",")})`,
        ).not.toBeNull();
        await complete(backend, ref, attempt!);
        expect((await backend.getStepState(WF, ref.runId, ref.stepId))?.status).toBe("completed");
      }
      expect(Date.now() - started).toBeLessThan(20_000);
    }, 120_000);
  });
}
