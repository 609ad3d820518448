import { describe, expect, it } from "vitest";
import { DEFAULT_WORKER_STALE_THRESHOLD_US, type Backend, type WorkerPresenceInput } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { T0_US, useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { claim, runWithSteps, WF } from "./support/scenario.js";

const STARTED_US = T0_US - 5_000_000;
const presence = (workerId: string, extra: Partial<WorkerPresenceInput> = {}): WorkerPresenceInput => ({
  workerId,
  host: "host-a",
  pid: 4242,
  concurrency: 3,
  workflows: [WF, "wf-other"],
  startedAtUs: STARTED_US,
  ...extra,
});
const ids = async (b: Backend, o: Parameters<Backend["getActiveWorkers"]>[0] = {}) =>
  (await b.getActiveWorkers(o)).map((w) => `${w.workerId}:${w.isActive}`);

/** Worker presence: workers' own records make idle live workers active, with their concurrency, on every driver. */
export function workerPresenceTests(h: ConformanceHarness): void {
  describe("workers (presence)", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("an idle worker with a fresh presence record is active with its concurrency, host, pid, workflows and start, with no step events", async () => {
      const { backend: b, clock } = t;
      const written = await b.recordWorkerPresence(presence("w-idle"));
      expect(written).toEqual({ ...presence("w-idle"), lastSeenUs: clock.nowUs() });
      const expected = {
        workerId: "w-idle",
        firstSeenUs: STARTED_US,
        lastSeenUs: clock.nowUs(),
        isActive: true,
        concurrency: 3,
        stepsStarted: 0,
        runningSteps: 0,
        currentSteps: [],
        host: "host-a",
        pid: 4242,
        workflows: [WF, "wf-other"],
        startedAtUs: STARTED_US,
      };
      expect(await b.getActiveWorkers()).toEqual([expected]);
      expect(await b.getWorkerById("w-idle")).toEqual(expected);
      expect(await b.getWorkerById("w-nobody")).toBeNull();
    });

    it("becomes inactive once its last presence is older than the stale threshold, and active again at its next write", async () => {
      const { backend: b, clock } = t;
      await b.recordWorkerPresence(presence("w-quiet"));
      const seenAt = clock.nowUs();
      clock.advanceUs(DEFAULT_WORKER_STALE_THRESHOLD_US);
      expect(await ids(b)).toEqual(["w-quiet:true"]);
      clock.advanceUs(1);
      expect(await ids(b)).toEqual([]);
      expect(await b.getActiveWorkers({ includeInactive: true })).toEqual([
        expect.objectContaining({ workerId: "w-quiet", isActive: false, lastSeenUs: seenAt, concurrency: 3 }),
      ]);
      expect(await b.getWorkerById("w-quiet")).toMatchObject({ isActive: false, concurrency: 3 });
      expect(await ids(b, { staleThresholdUs: DEFAULT_WORKER_STALE_THRESHOLD_US + 1 })).toEqual(["w-quiet:true"]);
      await b.recordWorkerPresence(presence("w-quiet", { concurrency: 5 }));
      expect(await b.getActiveWorkers()).toEqual([
        expect.objectContaining({ workerId: "w-quiet", isActive: true, lastSeenUs: clock.nowUs(), concurrency: 5 }),
      ]);
    });

    it("a worker marked stopped is inactive at once, and a restart under the same id makes it active again", async () => {
      const { backend: b, clock } = t;
      await b.recordWorkerPresence(presence("w-stop"));
      await b.recordWorkerPresence(presence("w-live"));
      clock.advanceMs(10);
      const stopped = await b.recordWorkerPresence(presence("w-stop", { stopped: true }));
      expect(stopped.stoppedAtUs).toBe(clock.nowUs());
      expect(await ids(b)).toEqual(["w-live:true"]);
      expect(await ids(b, { includeInactive: true })).toEqual(["w-live:true", "w-stop:false"]);
      expect(await b.getWorkerById("w-stop")).toMatchObject({
        isActive: false,
        stoppedAtUs: clock.nowUs(),
        lastSeenUs: clock.nowUs(),
        concurrency: 3,
      });
      clock.advanceMs(10);
      await b.recordWorkerPresence(presence("w-stop", { startedAtUs: clock.nowUs() }));
      const restarted = await b.getWorkerById("w-stop");
      expect(restarted).toMatchObject({ isActive: true, startedAtUs: clock.nowUs() });
      expect(restarted).not.toHaveProperty("stoppedAtUs");
    });

    it("combines with step events: steps and current attempts from events, concurrency from presence; presence keeps a busy worker active between heartbeats; a stop mark after its last step event makes it inactive", async () => {
      const { backend: b, clock } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(b, ["s"]);
      await claim(b, ref!, "w-busy");
      const claimedAt = clock.nowUs();
      const fromEvents = await b.getWorkerById("w-busy");
      expect(fromEvents).toMatchObject({ stepsStarted: 1, runningSteps: 1, isActive: true });
      await b.recordWorkerPresence(presence("w-busy", { concurrency: 4 }));
      clock.advanceUs(DEFAULT_WORKER_STALE_THRESHOLD_US + 1_000_000);
      await b.recordWorkerPresence(presence("w-busy", { concurrency: 4 }));
      const busy = await b.getWorkerById("w-busy");
      expect(busy).toEqual({
        ...fromEvents,
        firstSeenUs: STARTED_US,
        lastSeenUs: clock.nowUs(),
        isActive: true,
        concurrency: 4,
        host: "host-a",
        pid: 4242,
        workflows: [WF, "wf-other"],
        startedAtUs: STARTED_US,
      });
      expect(busy?.currentSteps).toEqual([
        { workflowSlug: WF, runId, stepId: "s", attemptNumber: 1, startedAtUs: claimedAt },
      ]);
      expect(await ids(b)).toEqual(["w-busy:true"]);
      await b.recordWorkerPresence(presence("w-busy", { concurrency: 4, stopped: true }));
      expect(await ids(b)).toEqual([]);
      expect(await b.getWorkerById("w-busy")).toMatchObject({ isActive: false, stepsStarted: 1, runningSteps: 1 });
    });

    it("lists workers seen in the last 24 h only: an older presence record is left out", async () => {
      const { backend: b, clock } = t;
      await b.recordWorkerPresence(presence("w-old"));
      clock.advanceUs(86_400_000_000 - 1);
      expect(await ids(b, { includeInactive: true })).toEqual(["w-old:false"]);
      clock.advanceUs(2);
      expect(await b.getActiveWorkers({ includeInactive: true })).toEqual([]);
      expect(await b.getWorkerById("w-old")).toBeNull();
    });

    it("rejects invalid presence with typed errors before any write", async () => {
      const { backend: b } = t;
      for (const bad of ["../esc", "", "a/b", "a b", "x".repeat(300)])
        await expectCode(
          b.recordWorkerPresence(presence(bad)),
          "INVALID_IDENTIFIER",
          `workerId ${JSON.stringify(bad)}`,
        );
      await expectCode(
        b.recordWorkerPresence(presence("w-bad", { workflows: ["../wf"] })),
        "INVALID_IDENTIFIER",
        "workflow slug",
      );
      for (const extra of [
        { concurrency: 0 },
        { concurrency: 1.5 },
        { pid: -1 },
        { startedAtUs: -1 },
        { host: 7 as unknown as string },
        { workflows: "wf" as unknown as string[] },
        { stopped: "yes" as unknown as boolean },
      ]) {
        await expectCode(b.recordWorkerPresence(presence("w-bad", extra)), "INVALID_ARGUMENT", JSON.stringify(extra));
      }
      expect(await b.getActiveWorkers({ includeInactive: true })).toEqual([]);
    });
  });
}
