import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { Backend, Event } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { registerManual, useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, logEvent, runWithSteps } from "./support/scenario.js";

/** Malformed values for every identifier kind. The `esc-` names are checked for on disk next to the storage dir. */
const BAD_COMMON = [
  "../esc-a",
  "..",
  ".",
  "",
  "/etc/passwd",
  "a\0b",
  "x".repeat(600),
  "a b",
  "a\\b",
  "$(rm)",
  "a\nb",
  "é",
];
const BAD_SLUG_OR_RUN = [...BAD_COMMON, "a/../../esc-b", "a/b"];
const BAD_STEP = [...BAD_COMMON, "a/../../esc-c", "a//b", "/abs", "a/", "a/./b", `${"s/".repeat(300)}s`];

const meta = (b: Backend) => ({ dependencies: [], timestamp: b.clock.nowUs(), attemptNumber: 0 });

/** Every call below must reject its bad identifier with INVALID_IDENTIFIER before touching storage. */
function slugCalls(b: Backend, bad: string, runId: string): Array<[string, () => unknown]> {
  const ev = logEvent({ workflowSlug: WF, runId, stepId: "s" }, "m", b.clock.nowUs());
  return [
    ["appendEvent", () => b.appendEvent(bad, runId, { ...ev, workflowSlug: bad } as Event)],
    ["appendEvent(event only)", () => b.appendEvent(WF, runId, { ...ev, workflowSlug: bad } as Event)],
    ["batchAppendEvents", () => b.batchAppendEvents([{ workflowSlug: bad, runId, event: ev }])],
    ["loadEvents", () => b.loadEvents(bad, runId)],
    ["claimScheduledStep", () => b.claimScheduledStep(bad, runId, "s", "w", meta(b))],
    ["submitRun", () => b.submitRun({ workflowSlug: bad })],
    ["listRuns", () => b.listRuns({ workflowSlug: bad })],
    ["listScheduledSteps", () => b.listScheduledSteps({ workflowSlug: bad })],
    ["listRunIds", () => b.listRunIds(bad)],
    ["runExists", () => b.runExists(bad, runId)],
    ["loadRun", () => b.loadRun(bad, runId)],
    ["getStepState", () => b.getStepState(bad, runId, "s")],
    ["initializeRun", () => b.initializeRun(bad, runId)],
    ["scheduleStep", () => b.scheduleStep(bad, runId, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 })],
    ["saveStepHeartbeat", () => b.saveStepHeartbeat(bad, runId, "s", "w", 1)],
    ["registerWorkflow", () => b.registerWorkflow({ slug: bad, name: "x", steps: [] })],
    ["getWorkflowSteps", () => b.getWorkflowSteps(bad)],
    [
      "createWorkflowVersion",
      () => b.createWorkflowVersion({ workflowSlug: bad, versionId: "v1", contentHash: "h", steps: [] }),
    ],
    ["getStepOutputPath", () => b.getStepOutputPath(bad, runId, "s", 1)],
    ["getQueueDepth", () => b.getQueueDepth({ workflowSlug: bad })],
  ];
}

function runCalls(b: Backend, bad: string): Array<[string, () => unknown]> {
  const ev = logEvent({ workflowSlug: WF, runId: "run-ok", stepId: "s" }, "m", b.clock.nowUs());
  return [
    ["appendEvent", () => b.appendEvent(WF, bad, { ...ev, runId: bad } as Event)],
    ["loadEvents", () => b.loadEvents(WF, bad)],
    ["getRun", () => b.getRun(bad)],
    ["runExists", () => b.runExists(WF, bad)],
    ["claimScheduledStep", () => b.claimScheduledStep(WF, bad, "s", "w", meta(b))],
    ["submitRun", () => b.submitRun({ workflowSlug: WF, runId: bad })],
    ["cancelRun", () => b.cancelRun(bad)],
    ["rerunFrom", () => b.rerunFrom({ parentRunId: bad, fromStepId: "s" })],
    ["startRun", () => b.startRun(WF, bad, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false })],
    [
      "saveStepComplete",
      () => b.saveStepComplete(WF, bad, "s", 1, { timestamp: 0, duration: 0, attemptNumber: 1, output: 1 }),
    ],
    [
      "saveStepLogs",
      () => b.saveStepLogs(WF, bad, "s", [{ timestampUs: 0, stream: "stdout", message: "m", attemptNumber: 1 }]),
    ],
    ["loadStepLogs", () => b.loadStepLogs(WF, bad, "s")],
    ["getFailedSteps", () => b.getFailedSteps(WF, bad)],
    ["loadStepEventsForProjection", () => b.loadStepEventsForProjection(WF, bad)],
    ["getStepOutputPath", () => b.getStepOutputPath(WF, bad, "s", 1)],
  ];
}

function stepCalls(b: Backend, bad: string, runId: string): Array<[string, () => unknown]> {
  const ev = logEvent({ workflowSlug: WF, runId, stepId: "s" }, "m", b.clock.nowUs());
  return [
    ["appendEvent", () => b.appendEvent(WF, runId, { ...ev, stepId: bad } as Event)],
    ["loadEvents", () => b.loadEvents(WF, runId, { category: "step", stepId: bad })],
    ["claimScheduledStep", () => b.claimScheduledStep(WF, runId, bad, "w", meta(b))],
    ["scheduleStep", () => b.scheduleStep(WF, runId, bad, { availableAt: 0, reason: "initial", attemptNumber: 1 })],
    ["saveStepHeartbeat", () => b.saveStepHeartbeat(WF, runId, bad, "w", 1)],
    [
      "saveStepComplete",
      () => b.saveStepComplete(WF, runId, bad, 1, { timestamp: 0, duration: 0, attemptNumber: 1, output: 1 }),
    ],
    [
      "saveStepFailed",
      () =>
        b.saveStepFailed(
          WF,
          runId,
          bad,
          { message: "x" },
          { duration: 0, attemptNumber: 1, terminal: true, failureReason: "execution-error" },
        ),
    ],
    [
      "saveStepCheckpoint",
      () => b.saveStepCheckpoint(WF, runId, bad, { name: "c", sequenceNumber: 0, attemptNumber: 1, data: 1 }),
    ],
    ["getStepState", () => b.getStepState(WF, runId, bad)],
    ["isStepClaimable", () => b.isStepClaimable(WF, runId, bad)],
    ["loadStepLogs", () => b.loadStepLogs(WF, runId, bad)],
    ["loadStepCheckpoints", () => b.loadStepCheckpoints(WF, runId, bad)],
    ["rerunFrom", () => b.rerunFrom({ parentRunId: runId, fromStepId: bad })],
    ["registerWorkflow", () => b.registerWorkflow({ slug: WF, name: "x", steps: [{ id: bad, name: "x" }] })],
    ["getStepOutputPath", () => b.getStepOutputPath(WF, runId, bad, 1)],
  ];
}

/** Identifier validation: every malformed workflowSlug, runId and stepId is refused with INVALID_IDENTIFIER before any I/O. */
export function identifierTests(h: ConformanceHarness): void {
  describe("identifiers", () => {
    const t = useInstance(h, { manualClock: true });

    async function checkAll(calls: Array<[string, () => unknown]>, bad: string): Promise<void> {
      for (const [name, call] of calls)
        await expectCode(async () => call(), "INVALID_IDENTIFIER", `${name}(${JSON.stringify(bad).slice(0, 40)})`);
    }

    it("rejects malformed workflow slugs everywhere", async () => {
      await registerManual(t.backend, [WF]);
      const { runId } = await runWithSteps(t.backend, ["s"]);
      for (const bad of BAD_SLUG_OR_RUN) await checkAll(slugCalls(t.backend, bad, runId), bad);
    });

    it("rejects malformed run ids everywhere", async () => {
      for (const bad of BAD_SLUG_OR_RUN) await checkAll(runCalls(t.backend, bad), bad);
    });

    it("rejects malformed step ids everywhere, and accepts nested step ids", async () => {
      await registerManual(t.backend, [WF]);
      const { runId, steps } = await runWithSteps(t.backend, ["etl/extract/fetch-users", "a.b_c-d"]);
      for (const bad of BAD_STEP) await checkAll(stepCalls(t.backend, bad, runId), bad);
      for (const s of steps) expect((await t.backend.getStepState(WF, runId, s.stepId))?.status).toBe("scheduled");
    });

    it("names the offending field in the error message", async () => {
      const { backend } = t;
      await registerManual(backend, [WF]);
      const { runId } = await runWithSteps(backend, ["s"]);
      const cases: Array<[RegExp, () => Promise<unknown>]> = [
        [/^Invalid workflowSlug /, () => backend.submitRun({ workflowSlug: "a/b" })],
        [/^Invalid runId /, () => backend.getRun("a/b")],
        [/^Invalid stepId /, () => backend.getStepState(WF, runId, "a//b")],
        [/^Invalid versionId /, () => backend.getWorkflowVersion(WF, "a/b")],
        [/^Invalid parentRunId /, () => backend.rerunFrom({ parentRunId: "a/b", fromStepId: "s" })],
        [/^Invalid fromStepId /, () => backend.rerunFrom({ parentRunId: runId, fromStepId: "a//b" })],
        [
          /^Invalid originalRunId /,
          () => backend.saveWorkflowResumed(WF, runId, { originalRunId: "a/b", resumedSteps: 0, pendingSteps: 0 }),
        ],
      ];
      for (const [pattern, call] of cases)
        expect((await expectCode(call(), "INVALID_IDENTIFIER", String(pattern))).message).toMatch(pattern);
    });

    it("leaves no trace of the rejected calls: no runs, no workflows, nothing outside the storage directory", async () => {
      const { backend } = t;
      for (const bad of BAD_SLUG_OR_RUN) {
        for (const [, call] of [...slugCalls(backend, bad, "run-x"), ...runCalls(backend, bad)])
          await Promise.resolve()
            .then(call)
            .catch(() => undefined);
      }
      expect(await backend.listRuns()).toEqual([]);
      expect(await backend.listActiveWorkflows()).toEqual([]);
      expect(await backend.listWorkflowMetadata()).toEqual([]);
      const dir = t.instance.storageDir;
      if (dir) {
        for (const name of ["esc-a", "esc-b", "esc-c"]) {
          for (const up of ["..", "../..", "../../.."])
            expect(existsSync(resolve(dir, up, name)), `${name} outside the storage dir`).toBe(false);
        }
      }
    });
  });
}
