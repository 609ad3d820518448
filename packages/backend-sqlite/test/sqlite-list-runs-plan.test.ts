import { afterEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import type { ListRunsOptions } from "@cairn/backend-interface";
import { runsParams, runsSql } from "../src/sqlite-queries.js";
import { freshBackend } from "./helpers.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** EXPLAIN QUERY PLAN of listRuns' statement for these options, on a migrated database. */
async function plan(options: ListRunsOptions): Promise<string[]> {
  const { filename, dispose } = await freshBackend();
  cleanups.push(dispose);
  const db = new Database(filename, { readonly: true });
  cleanups.push(() => {
    db.close();
  });
  return (
    db.prepare(`EXPLAIN QUERY PLAN ${runsSql(options)}`).all(...runsParams(options)) as Array<{ detail: string }>
  ).map((r) => r.detail);
}

// The Cost rule: a page of listRuns reads about `limit` rows. Every filter combination must be an index walk already in
// page order (created_at_us DESC, run_id DESC): no sort of the matching rows (temp B-tree), no scan of the table.
describe("listRuns query plans (SQLite)", () => {
  const cases: Array<[string, ListRunsOptions, string]> = [
    ["no filter", { limit: 20 }, "runs_newest"],
    ["workflow", { workflowSlug: "w", limit: 50 }, "runs_by_workflow"],
    [
      "one status (what the worker polls)",
      { workflowSlug: "w", status: ["pending"], limit: 50 },
      "runs_by_workflow_status",
    ],
    [
      "several statuses of a workflow",
      { workflowSlug: "w", status: ["pending", "running", "failed"], limit: 50 },
      "runs_by_workflow_status",
    ],
    ["one status, any workflow", { status: ["completed"], limit: 50 }, "runs_by_status"],
    ["several statuses, any workflow", { status: ["completed", "failed"], limit: 50 }, "runs_by_status"],
    ["tags", { tags: ["a", "b"], limit: 50 }, "runs_newest"],
    [
      "workflow, statuses and tags",
      { workflowSlug: "w", status: ["completed", "cancelled"], tags: ["a"], limit: 50 },
      "runs_by_workflow_status",
    ],
    ["no limit", { workflowSlug: "w", status: ["pending", "running"] }, "runs_by_workflow_status"],
    ["one tenant", { tenantId: "acme", limit: 20 }, "runs_by_tenant"],
    [
      "one tenant, a workflow and statuses",
      { tenantId: "acme", workflowSlug: "w", status: ["pending", "failed"], limit: 20 },
      "runs_by_tenant",
    ],
  ];
  for (const [name, options, index] of cases) {
    it(`${name}: walks ${index} in order, sorts nothing`, async () => {
      const details = await plan(options);
      const runsAccess = details.filter((d) => /\b(SCAN|SEARCH) r\b/.test(d));
      expect(runsAccess.length, details.join("\n")).toBe(Math.max(1, new Set(options.status ?? []).size));
      for (const d of runsAccess)
        expect(d, details.join("\n")).toMatch(new RegExp(`^(SEARCH|SCAN) r USING INDEX ${index}\\b`));
      expect(details.join("\n")).not.toMatch(/TEMP B-TREE/);
      if (new Set(options.status ?? []).size > 1) expect(details).toContain("MERGE (UNION ALL)");
    });
  }

  it("each status of a workflow is an equality range of the index, not a filter over the workflow's runs", async () => {
    const details = await plan({ workflowSlug: "w", status: ["pending"], limit: 50 });
    expect(details).toEqual(["SEARCH r USING INDEX runs_by_workflow_status (workflow_slug=? AND status=?)"]);
  });

  it("a status listed twice is one arm (no duplicate runs)", () => {
    expect(runsSql({ status: ["pending", "pending"] })).toBe(runsSql({ status: ["pending"] }));
    expect(runsParams({ status: ["pending", "pending"], limit: 5 })).toEqual(["pending", 5]);
  });
});
