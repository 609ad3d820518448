import { describe, expect, it } from "vitest";
import { Backend } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF } from "./support/scenario.js";

/** A call of each kind: a read, a write, a submission, a claim, an analytics query, a maintenance round. */
function calls(b: Backend): Array<[string, () => Promise<unknown>]> {
  return [
    ["getRun", () => b.getRun("r1")],
    ["listRuns", () => b.listRuns()],
    ["loadEvents", () => b.loadEvents(WF, "r1")],
    ["submitRun", () => b.submitRun({ workflowSlug: WF })],
    ["submitRuns", () => b.submitRuns([{ workflowSlug: WF }])],
    ["registerWorkflow", () => b.registerWorkflow({ slug: WF, name: WF, steps: [] })],
    ["claimScheduledSteps", () => b.claimScheduledSteps("w1", { limit: 1 })],
    ["getQueueDepth", () => b.getQueueDepth()],
    ["getAnalyticsSummary", () => b.getAnalyticsSummary()],
    ["maintain", () => b.maintain({ workerId: "w1", staleMs: 1000 })],
  ];
}

/** The lifecycle every driver shares, owned by the one Backend class: the same errors before initialize and after close. */
export function backendLifecycleTests(h: ConformanceHarness): void {
  describe("lifecycle: one Backend over the driver", () => {
    const t = useInstance(h);

    it("refuses every call before initialize() with BACKEND_NOT_INITIALIZED, touching nothing", async () => {
      const fresh = new Backend(t.backend.driver);
      for (const [name, call] of calls(fresh)) await expectCode(call, "BACKEND_NOT_INITIALIZED", name);
      expect(await t.backend.listRuns()).toEqual([]);
    });

    it("refuses every call after close() with BACKEND_CLOSED, initialize() too; close() twice is fine", async () => {
      const b = t.backend;
      await b.close();
      for (const [name, call] of calls(b)) await expectCode(call, "BACKEND_CLOSED", name);
      await expectCode(b.initialize(), "BACKEND_CLOSED", "initialize after close");
      await b.close();
    });

    it("initialize() is idempotent, also when called concurrently", async () => {
      await Promise.all([t.backend.initialize(), t.backend.initialize()]);
      expect(await t.backend.listRuns()).toEqual([]);
    });

    it("the driver's named Backend class is a constructor of Backend and nothing else", () => {
      const proto = Object.getPrototypeOf(t.backend) as object;
      if (proto === Backend.prototype) return;
      expect(Object.getPrototypeOf(proto)).toBe(Backend.prototype);
      expect(Object.getOwnPropertyNames(proto)).toEqual(["constructor"]);
    });
  });
}
