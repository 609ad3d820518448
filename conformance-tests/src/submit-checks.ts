import { describe, expect, it } from "vitest";
import { UnknownWorkflowError, type Backend, type InvalidInputError } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { openSecondBackend, registerManual, useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, countEvents } from "./support/scenario.js";
import { CHAIN, eventTrail } from "./support/dags.js";

/** An input schema as zod 4 writes one: a format, an integer bound, a nested object with a required field. */
const SIGNUP_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  properties: {
    email: { type: "string", format: "email" },
    age: { type: "integer", minimum: 13 },
    plan: { type: "string", enum: ["free", "pro"], default: "free" },
    address: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
  required: ["email", "age"],
};
const VALID = { email: "ada@example.com", age: 36 };
const INVALID = { email: "not-an-email", age: 3, address: {} };

const pathsOf = (err: unknown) => ((err as InvalidInputError).validationErrors ?? []).map((e) => e.path).sort();

/** Asserts the store holds no run and no live workflow: a refused submission left nothing behind. */
async function expectNothingWritten(backend: Backend, slug = WF): Promise<void> {
  expect(await backend.listRuns()).toEqual([]);
  expect(await backend.listRunIds(slug)).toEqual([]);
  expect(await backend.listActiveWorkflows()).toEqual([]);
}

/** submitRun and submitRuns refuse, writing nothing, a run of an unregistered workflow and an input its schema rejects. */
export function submitCheckTests(h: ConformanceHarness): void {
  describe("submit: registered workflows and their input schemas", () => {
    const t = useInstance(h, { manualClock: true });

    it("refuses a run of a workflow that was never registered with WORKFLOW_NOT_FOUND, writes nothing, and reserves no key", async () => {
      const { backend } = t;
      const err = await expectCode(
        backend.submitRun({ workflowSlug: WF, idempotencyKey: "k", input: { a: 1 } }),
        "WORKFLOW_NOT_FOUND",
      );
      expect(err.message).toContain(WF);
      expect(err).toBeInstanceOf(UnknownWorkflowError);
      await expectCode(
        backend.submitRun({ workflowSlug: WF, runId: "run-fixed" }),
        "WORKFLOW_NOT_FOUND",
        "with a run id",
      );
      await expectNothingWritten(backend);
      expect(await backend.getRun("run-fixed")).toBeNull();
      // Registered by another backend on the same storage: submittable at once (an absent registration is never cached).
      const second = await openSecondBackend(t.instance.opener);
      try {
        await registerManual(second, [WF]);
      } finally {
        await second.close();
      }
      expect(await backend.submitRun({ workflowSlug: WF, idempotencyKey: "k", input: { a: 1 } })).toMatchObject({
        isNew: true,
      });
    });

    it("checks identifiers and fields before the registration: a malformed submission of an unknown workflow is INVALID_*", async () => {
      const { backend } = t;
      await expectCode(backend.submitRun({ workflowSlug: WF, runId: "a/b" }), "INVALID_IDENTIFIER");
      await expectCode(backend.submitRun({ workflowSlug: WF, priority: 1.5 }), "INVALID_EVENT");
      await expectNothingWritten(backend);
    });

    it("refuses an input the registration's JSON Schema rejects with INVALID_INPUT naming every failing field, and writes nothing", async () => {
      const { backend } = t;
      await backend.registerWorkflow({ slug: WF, name: WF, inputSchemaJSON: SIGNUP_SCHEMA, steps: [] });
      const err = await expectCode(
        backend.submitRun({ workflowSlug: WF, idempotencyKey: "k", input: INVALID }),
        "INVALID_INPUT",
      );
      expect(pathsOf(err)).toEqual(["address.city", "age", "email"]);
      expect(err.message).toMatch(/email/);
      expect(err.message).toMatch(/age/);
      expect(
        pathsOf(
          await expectCode(
            backend.submitRun({ workflowSlug: WF, input: { email: "ada@example.com" } }),
            "INVALID_INPUT",
          ),
        ),
      ).toEqual(["age"]);
      expect(
        pathsOf(
          await expectCode(
            backend.submitRun({ workflowSlug: WF, input: { ...VALID, plan: "gold", age: 20.5 } }),
            "INVALID_INPUT",
          ),
        ),
      ).toEqual(["age", "plan"]);
      expect(
        pathsOf(await expectCode(backend.submitRun({ workflowSlug: WF, input: [VALID] }), "INVALID_INPUT")),
      ).toEqual(["(root)"]);
      await expectNothingWritten(backend);
      // The refused key was not reserved; a valid input is accepted and stored as given.
      const ok = await backend.submitRun({ workflowSlug: WF, idempotencyKey: "k", input: VALID });
      expect(ok.isNew).toBe(true);
      expect(await backend.getRun(ok.runId)).toMatchObject({ status: "pending", input: JSON.stringify(VALID) });
      expect(await countEvents(backend, { workflowSlug: WF, runId: ok.runId }, "RunSubmitted")).toBe(1);
    });

    it("does not check a submission without an input (whether no value is acceptable is the worker's check), nor a workflow without a schema", async () => {
      const { backend } = t;
      await backend.registerWorkflow({ slug: WF, name: WF, inputSchemaJSON: SIGNUP_SCHEMA, steps: [] });
      await registerManual(backend, ["wf-free"]);
      expect((await backend.submitRun({ workflowSlug: WF })).isNew).toBe(true);
      expect((await backend.submitRun({ workflowSlug: "wf-free", input: INVALID })).isNew).toBe(true);
    });

    it("checks a store-driven run's input against its version's schema (the one it will run), and starts only a valid one", async () => {
      const { backend } = t;
      await backend.createWorkflowVersion({
        workflowSlug: WF,
        versionId: "v-old",
        contentHash: "h-old",
        steps: CHAIN,
        inputSchemaJSON: { type: "object", required: ["legacy"] },
      });
      await backend.createWorkflowVersion({
        workflowSlug: WF,
        versionId: "v1",
        contentHash: "h-1",
        steps: CHAIN,
        inputSchemaJSON: SIGNUP_SCHEMA,
      });
      await backend.registerWorkflow({ slug: WF, name: WF, versionId: "v1", steps: CHAIN });
      expect(
        pathsOf(await expectCode(backend.submitRun({ workflowSlug: WF, input: INVALID }), "INVALID_INPUT")),
      ).toEqual(["address.city", "age", "email"]);
      await expectNothingWritten(backend);
      const { runId } = await backend.submitRun({ workflowSlug: WF, input: VALID });
      expect(await eventTrail(backend, runId)).toEqual(["RunSubmitted", "WorkflowStarted", "StepScheduled:a"]);
      // A submission naming an older version is checked against that version's schema.
      expect(
        pathsOf(
          await expectCode(backend.submitRun({ workflowSlug: WF, versionId: "v-old", input: VALID }), "INVALID_INPUT"),
        ),
      ).toEqual(["legacy"]);
      expect((await backend.submitRun({ workflowSlug: WF, versionId: "v-old", input: { legacy: true } })).isNew).toBe(
        true,
      );
    });

    it("submitRuns reports an unknown workflow and an invalid input per item, and writes the valid items", async () => {
      const { backend } = t;
      await backend.registerWorkflow({ slug: WF, name: WF, inputSchemaJSON: SIGNUP_SCHEMA, steps: [] });
      const outcomes = await backend.submitRuns([
        { workflowSlug: WF, runId: "run-ok", input: VALID },
        { workflowSlug: "wf-unknown", runId: "run-unknown" },
        { workflowSlug: WF, runId: "run-invalid", input: INVALID },
        { workflowSlug: WF, runId: "run-ok-2", idempotencyKey: "k2", input: { ...VALID, plan: "pro" } },
      ]);
      expect(outcomes.map((o) => (o.ok ? "ok" : o.error.code))).toEqual([
        "ok",
        "WORKFLOW_NOT_FOUND",
        "INVALID_INPUT",
        "ok",
      ]);
      expect(pathsOf(outcomes[2]!.ok ? undefined : outcomes[2]!.error)).toEqual(["address.city", "age", "email"]);
      expect((await backend.listRuns()).map((r) => r.runId).sort()).toEqual(["run-ok", "run-ok-2"]);
      expect(await backend.getRun("run-unknown")).toBeNull();
      expect(await backend.getRun("run-invalid")).toBeNull();
      expect(await backend.listRunIds("wf-unknown")).toEqual([]);
      expect(await backend.submitRuns([{ workflowSlug: "wf-unknown" }])).toMatchObject([
        { ok: false, error: { code: "WORKFLOW_NOT_FOUND" } },
      ]);
    });

    it("the seed's saveRunSubmitted records what it is given: neither the registration nor the input schema is checked", async () => {
      const { backend } = t;
      await backend.saveRunSubmitted("wf-unregistered", "run-seed", {
        availableAt: 0,
        priority: 0,
        hasInputSchema: false,
        input: "{}",
      });
      expect((await backend.getRun("run-seed"))?.workflowSlug).toBe("wf-unregistered");
    });
  });
}
