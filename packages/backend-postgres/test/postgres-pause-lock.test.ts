import { expect, it } from "vitest";
import { describePostgres } from "../../../test-support/postgres.js";
import { registerManual } from "../../../test-support/register.js";
import { quoteSchema } from "../src/index.js";
import { pauseLockPrefix } from "../src/postgres-queries.js";
import { freshBackend, withClient } from "./helpers.js";

describePostgres("Postgres: a submission reads its workflow's pause under the pause lock", () => {
  it("waits for a registration write in flight and reads the mark it commits, within its own statement", async () => {
    const { backend, schema, url } = await freshBackend();
    await registerManual(backend, "wf");
    await backend.submitRun({ workflowSlug: "wf", input: {} }); // the registration is cached now, not paused
    const reported: unknown[] = [];
    const driver = backend.driver as unknown as { writeSubmission: (...a: unknown[]) => Promise<unknown> };
    const write = driver.writeSubmission;
    driver.writeSubmission = async (...args: unknown[]) => {
      const result = await write.apply(backend.driver, args);
      reported.push(result);
      return result;
    };
    await withClient(url, async (c) => {
      // A registration write as putWorkflow makes it (pauseWorkflow's mark), held open: its lock, then the mark.
      await c.query("BEGIN");
      await c.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`${pauseLockPrefix(schema)}wf`]);
      await c.query(
        `UPDATE ${quoteSchema(schema)}.workflows SET registration = (registration::jsonb || '{"paused":{"atUs":1}}')::json WHERE slug = 'wf'`,
      );
      let settled = false;
      const submitting = backend.submitRun({ workflowSlug: "wf", input: {} }).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false); // the submit statement waits for the mark's transaction
      await c.query("COMMIT");
      const { runId } = await submitting;
      // The statement read the mark committed while it waited (a snapshot taken after the lock, not at its start).
      expect(reported).toEqual([{ created: true, runId, workflowPaused: true }]);
      expect((await backend.getRun(runId))?.paused).toMatchObject({ scope: "workflow" });
    });
  });

  it("a registration write waits for a submission in flight, so the pause's scan finds the run", async () => {
    const { backend, schema, url } = await freshBackend();
    await registerManual(backend, "wf");
    await withClient(url, async (c) => {
      // A submission's share of the lock, held open as its statement holds it to commit.
      await c.query("BEGIN");
      await c.query(`SELECT ${quoteSchema(schema)}.workflow_paused($1, 'wf')`, [`${pauseLockPrefix(schema)}wf`]);
      let settled = false;
      const pausing = backend.pauseWorkflow("wf").finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
      await c.query("COMMIT");
      await pausing;
      expect((await backend.getWorkflowMetadata("wf"))?.paused).toBeDefined();
    });
  });
});
