import { expect, it } from "vitest";
import type pg from "pg";
import type { ListRunsOptions } from "@cairn/backend-interface";
import { describePostgres } from "../../../test-support/postgres.js";
import { listRunsQuery } from "../src/postgres-queries.js";
import { quoteSchema } from "../src/index.js";
import { freshBackend, withClient } from "./helpers.js";

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  Plans?: PlanNode[];
}

function nodes(n: PlanNode): PlanNode[] {
  return [n, ...(n.Plans ?? []).flatMap(nodes)];
}

/** Table rows the plan read: what its scans returned plus what their filters threw away. */
function rowsRead(root: PlanNode): number {
  return nodes(root)
    .filter((n) => /Scan/.test(n["Node Type"]) && !/Bitmap Index Scan/.test(n["Node Type"]))
    .reduce(
      (sum, n) =>
        sum +
        (n["Actual Rows"] + (n["Rows Removed by Filter"] ?? 0) + (n["Rows Removed by Index Recheck"] ?? 0)) *
          n["Actual Loops"],
      0,
    );
}

async function explain(c: pg.Client, schema: string, options: ListRunsOptions): Promise<PlanNode> {
  const q = listRunsQuery(quoteSchema(schema), options);
  const r = await c.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>({
    text: `EXPLAIN (ANALYZE, FORMAT JSON) ${q.text}`,
    values: q.values,
  });
  return r.rows[0]!["QUERY PLAN"][0]!.Plan;
}

// The Cost rule: a page of listRuns reads about `limit` rows, whatever the history. A history of 30,000 finished runs
// (rows written straight into the runs table: only its indexes matter here) and a few live ones; every status- and
// workflow-filtered page must read a small multiple of its limit (a sort is fine only of that few: the planner sorts a
// small bitmap range rather than walk it in order when it expects few rows).
describePostgres("listRuns query plans (Postgres)", () => {
  it(
    "status- and workflow-filtered pages read about `limit` rows, in order, on 30,000 finished runs",
    { timeout: 60_000 },
    async () => {
      const { schema, url } = await freshBackend();
      const s = quoteSchema(schema);
      await withClient(url, async (c) => {
        await c.query(`INSERT INTO ${s}.runs (run_id, workflow_slug, status, live, available_at_us, priority, created_at_us, tags, state)
        SELECT 'run-' || lpad(i::text, 6, '0'), (ARRAY['wf-a', 'wf-b', 'wf-c'])[1 + i % 3], CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'completed' END,
          false, i, 0, i / 2, CASE WHEN i % 10 = 0 THEN ARRAY['priority'] ELSE ARRAY['standard'] END,
          CASE WHEN i % 7 = 0 THEN '{"tenantId":"acme"}'::json ELSE '{}'::json END
        FROM generate_series(1, 30000) AS i`);
        // Live runs of other workflows only: the polled workflow has none pending, as on a quiet worker.
        await c.query(`INSERT INTO ${s}.runs (run_id, workflow_slug, status, live, available_at_us, priority, created_at_us, tags, state)
        SELECT 'live-' || i, 'wf-b', CASE WHEN i % 2 = 0 THEN 'pending' ELSE 'running' END, true, i, 0, 100000 + i, '{}', '{}'::json
        FROM generate_series(1, 40) AS i`);
        await c.query(`ANALYZE ${s}.runs`);
        const cases: ListRunsOptions[] = [
          { workflowSlug: "wf-a", status: ["pending"], limit: 50 }, // what the worker polls
          { workflowSlug: "wf-b", status: ["pending"], limit: 10 },
          { workflowSlug: "wf-a", status: ["pending", "running"], limit: 50 },
          { workflowSlug: "wf-a", status: ["failed"], limit: 50 },
          { workflowSlug: "wf-a", status: ["completed", "failed"], limit: 50 },
          { status: ["failed"], limit: 50 },
          { status: ["pending", "running", "failed"], limit: 50 },
          { status: ["completed"], limit: 50 },
          { workflowSlug: "wf-c", limit: 50 },
          { limit: 20 },
          { tenantId: "acme", limit: 50 }, // one tenant's runs: runs_tenant_created_idx
        ];
        for (const options of cases) {
          const plan = await explain(c, schema, options);
          const read = rowsRead(plan);
          const statuses = new Set(options.status ?? []).size || 1;
          const detail = `${JSON.stringify(options)} read ${read} rows:\n${JSON.stringify(plan, null, 1)}`;
          expect(read, detail).toBeLessThanOrEqual(4 * options.limit! * statuses + 10);
          expect(
            nodes(plan).some((n) => n["Node Type"] === "Seq Scan"),
            detail,
          ).toBe(false);
        }
      });
    },
  );

  it("pages come out newest first, ties broken by run id descending, over several statuses", async () => {
    const { schema, url } = await freshBackend();
    const s = quoteSchema(schema);
    await withClient(url, async (c) => {
      await c.query(`INSERT INTO ${s}.runs (run_id, workflow_slug, status, live, available_at_us, priority, created_at_us, tags, state)
        SELECT 'r' || lpad(i::text, 3, '0'), 'wf', (ARRAY['pending', 'running', 'failed'])[1 + i % 3], true, i, 0, i / 4, '{}', json_build_object('runId', 'r' || lpad(i::text, 3, '0'))
        FROM generate_series(1, 200) AS i`);
      const all = await c.query<{ run_id: string }>(
        `SELECT run_id FROM ${s}.runs WHERE status IN ('pending', 'failed') ORDER BY created_at_us DESC, run_id DESC`,
      );
      for (const limit of [1, 7, 30, undefined]) {
        const q = listRunsQuery(s, {
          workflowSlug: "wf",
          status: ["failed", "pending", "failed"],
          ...(limit !== undefined ? { limit } : {}),
        });
        const got = (await c.query<{ run_id: string }>(q)).rows.map((r) => r.run_id);
        expect(got).toEqual(all.rows.map((r) => r.run_id).slice(0, limit ?? all.rows.length));
      }
    });
  });
});
