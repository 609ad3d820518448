import { describe, expect, it } from "vitest";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF } from "./support/scenario.js";

const steps = [
  { id: "a", name: "A" },
  { id: "b/inner", name: "B", dependencies: ["a"], maxRetries: 2, exportOutput: true, timeoutMs: 5000 },
];

/** Workflow registration and versions. */
export function versionTests(h: ConformanceHarness): void {
  describe("workflow registration", () => {
    const t = useInstance(h, { manualClock: true });

    it("round-trips metadata, input schema and step definitions (defaults filled), replaces on re-registration, lists by slug", async () => {
      const { backend, clock } = t;
      expect(await backend.getWorkflowMetadata(WF)).toBeNull();
      expect(await backend.getWorkflowSteps(WF)).toEqual([]);
      const inputSchemaJSON = { type: "object", properties: { n: { type: "number" } }, required: ["n"] };
      await backend.registerWorkflow({
        slug: WF,
        name: "Main",
        description: "desc",
        location: "/app/wf",
        inputSchemaJSON,
        versionId: "v1",
        steps,
      });
      expect(await backend.getWorkflowMetadata(WF)).toEqual({
        slug: WF,
        name: "Main",
        description: "desc",
        location: "/app/wf",
        inputSchemaJSON,
        versionId: "v1",
        registeredAtUs: clock.nowUs(),
      });
      expect(await backend.getWorkflowSteps(WF)).toEqual([
        { id: "a", name: "A", dependencies: [], exportOutput: false },
        { id: "b/inner", name: "B", dependencies: ["a"], maxRetries: 2, exportOutput: true, timeoutMs: 5000 },
      ]);
      await backend.registerWorkflow({ slug: "wf-a", name: "First", steps: [] });
      await backend.registerWorkflow({ slug: WF, name: "Main v2", steps: [{ id: "only", name: "Only" }] });
      expect((await backend.getWorkflowMetadata(WF))?.name).toBe("Main v2");
      expect((await backend.getWorkflowSteps(WF)).map((s) => s.id)).toEqual(["only"]);
      expect((await backend.listWorkflowMetadata()).map((m) => m.slug)).toEqual(["wf-a", WF]);
      await expectCode(backend.registerWorkflow({ slug: WF, name: 42 as never, steps: [] }), "INVALID_EVENT");
      expect((await backend.getWorkflowMetadata(WF))?.name).toBe("Main v2");
    });
  });

  describe("workflow versions", () => {
    const t = useInstance(h, { manualClock: true });

    it("creates a version idempotently per versionId and rejects other content under the same id with VERSION_CONFLICT", async () => {
      const { backend, clock } = t;
      const v1 = await backend.createWorkflowVersion({
        workflowSlug: WF,
        versionId: "v1",
        contentHash: "hash-1",
        steps,
        metadata: { git: "abc" },
      });
      expect(v1).toMatchObject({
        workflowSlug: WF,
        versionId: "v1",
        contentHash: "hash-1",
        createdAtUs: clock.nowUs(),
        metadata: { git: "abc" },
      });
      clock.advanceMs(5);
      const again = await backend.createWorkflowVersion({
        workflowSlug: WF,
        versionId: "v1",
        contentHash: "hash-1",
        steps,
        metadata: { git: "abc" },
      });
      expect(again).toEqual(v1);
      await expectCode(
        backend.createWorkflowVersion({ workflowSlug: WF, versionId: "v1", contentHash: "hash-2", steps }),
        "VERSION_CONFLICT",
      );
      expect(await backend.listWorkflowVersions(WF)).toEqual([v1]);
      expect(await backend.getWorkflowVersion(WF, "v1")).toEqual(v1);
      expect(await backend.getWorkflowVersion(WF, "v9")).toBeNull();
      expect(await backend.getWorkflowVersion("wf-other", "v1")).toBeNull();
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () =>
          backend.createWorkflowVersion({ workflowSlug: WF, versionId: "v-race", contentHash: "h", steps: [] }),
        ),
      );
      expect(results.every((r) => r.status === "fulfilled")).toBe(true);
      expect((await backend.listWorkflowVersions(WF)).filter((v) => v.versionId === "v-race")).toHaveLength(1);
    });

    it("round-trips content-addressed version ids in the original `sha256:<hex>` format through versions, registration and runs", async () => {
      const { backend, clock } = t;
      const id = `sha256:${"abc123".repeat(10)}abcd`;
      const older = "sha256:0123456789abcdef";
      const v = await backend.createWorkflowVersion({ workflowSlug: WF, versionId: id, contentHash: "h-sha", steps });
      expect(v.versionId).toBe(id);
      expect(
        await backend.createWorkflowVersion({ workflowSlug: WF, versionId: id, contentHash: "h-sha", steps }),
      ).toEqual(v);
      await expectCode(
        backend.createWorkflowVersion({ workflowSlug: WF, versionId: id, contentHash: "h-other", steps }),
        "VERSION_CONFLICT",
      );
      clock.advanceMs(10);
      await backend.createWorkflowVersion({
        workflowSlug: WF,
        versionId: older.replace("0123", "9999"),
        contentHash: "h-newest",
        steps: [],
      });
      expect(await backend.getWorkflowVersion(WF, id)).toEqual(v);
      expect(await backend.getWorkflowVersion(WF, older)).toBeNull();
      expect((await backend.listWorkflowVersions(WF)).map((x) => x.versionId)).toEqual(["sha256:9999456789abcdef", id]);
      await backend.registerWorkflow({ slug: WF, name: "Main", versionId: id, steps });
      expect((await backend.getWorkflowMetadata(WF))?.versionId).toBe(id);
      expect(await backend.getCurrentWorkflowVersion(WF)).toEqual(v);
      const { runId } = await backend.submitRun({ workflowSlug: WF, versionId: id });
      // The store started the run at submit (its version is registered).
      expect(
        await backend.startRun(WF, runId, {
          workflowAttemptNumber: 1,
          hasInputSchema: false,
          hasInput: false,
          versionId: id,
        }),
      ).toBe(false);
      expect((await backend.getRun(runId))?.versionId).toBe(id);
      expect(
        (await backend.loadEvents(WF, runId, { category: "workflow" }))
          .map((e) => ("versionId" in e ? e.versionId : undefined))
          .slice(0, 2),
      ).toEqual([id, id]);
    });

    it("refuses a malformed versionId everywhere with INVALID_IDENTIFIER naming versionId, before writing anything", async () => {
      const { backend } = t;
      for (const bad of [
        "",
        ".",
        "..",
        "../esc-v",
        "sha256/abc",
        "a b",
        "sha256:abc\\x",
        "a\0b",
        "é",
        "x".repeat(200),
      ]) {
        const calls: Array<[string, () => Promise<unknown>]> = [
          [
            "createWorkflowVersion",
            () => backend.createWorkflowVersion({ workflowSlug: WF, versionId: bad, contentHash: "h", steps: [] }),
          ],
          ["getWorkflowVersion", () => backend.getWorkflowVersion(WF, bad)],
          ["registerWorkflow", () => backend.registerWorkflow({ slug: WF, name: "x", versionId: bad, steps: [] })],
          ["submitRun", () => backend.submitRun({ workflowSlug: WF, versionId: bad })],
          [
            "saveRunSubmitted",
            () =>
              backend.saveRunSubmitted(WF, "run-v", {
                availableAt: 0,
                priority: 0,
                hasInputSchema: false,
                versionId: bad,
              }),
          ],
        ];
        for (const [name, call] of calls) {
          const err = await expectCode(call(), "INVALID_IDENTIFIER", `${name}(${JSON.stringify(bad).slice(0, 30)})`);
          expect(err.message, name).toMatch(/^Invalid versionId /);
        }
      }
      expect(await backend.listWorkflowVersions(WF)).toEqual([]);
      expect(await backend.listWorkflowMetadata()).toEqual([]);
      expect(await backend.listRuns()).toEqual([]);
    });

    it("lists newest first (with limit), and the current version is the registered one, else the newest", async () => {
      const { backend, clock } = t;
      expect(await backend.getCurrentWorkflowVersion(WF)).toBeNull();
      expect(await backend.listWorkflowVersions(WF)).toEqual([]);
      for (const id of ["v1", "v2", "v3"]) {
        clock.advanceMs(10);
        await backend.createWorkflowVersion({ workflowSlug: WF, versionId: id, contentHash: `h-${id}`, steps: [] });
      }
      await backend.createWorkflowVersion({ workflowSlug: "wf-other", versionId: "v9", contentHash: "x", steps: [] });
      expect((await backend.listWorkflowVersions(WF)).map((v) => v.versionId)).toEqual(["v3", "v2", "v1"]);
      expect((await backend.listWorkflowVersions(WF, { limit: 2 })).map((v) => v.versionId)).toEqual(["v3", "v2"]);
      expect((await backend.getCurrentWorkflowVersion(WF))?.versionId).toBe("v3");
      await backend.registerWorkflow({ slug: WF, name: "Main", versionId: "v2", steps: [] });
      expect((await backend.getCurrentWorkflowVersion(WF))?.versionId).toBe("v2");
      const { runId } = await backend.submitRun({ workflowSlug: WF, versionId: "v2" });
      expect((await backend.getRun(runId))?.versionId).toBe("v2");
      // A run of a registered version is started by the store at submit (and, with no steps, completed at once).
      expect(
        await backend.startRun(WF, runId, {
          workflowAttemptNumber: 1,
          hasInputSchema: false,
          hasInput: false,
          versionId: "v2",
        }),
      ).toBe(false);
      const events = await backend.loadEvents(WF, runId, { category: "workflow" });
      expect(events.map((e) => e.type)).toEqual(["RunSubmitted", "WorkflowStarted", "WorkflowCompleted"]);
      expect(events.slice(0, 2).map((e) => ("versionId" in e ? e.versionId : undefined))).toEqual(["v2", "v2"]);
    });
  });
}
