/** The api-sync example (examples/workflows/api-sync) on the test kit: calls, links, counters, progress, AI usage and a child step per page. */
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../src/index.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/workflows/api-sync", import.meta.url));
let env: TestEnv;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cairn-api-sync-"));
  await symlink(EXAMPLE, join(dir, "api-sync"));
  env = await createTestEnv({ workflowsDir: dir });
});
afterAll(async () => {
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

it("tracks a call per page and the AI call, links every charge, counts inserts and then updates on a second run", async () => {
  const first = await env.run("api-sync", { pages: 2, pageSize: 5 });
  expect(first.status).toBe("completed");
  const b = env.backend;
  expect((await b.getRun(first.runId))?.counters).toEqual({ fetched: 10, inserted: 10 });
  const calls = await b.loadStepCalls("api-sync", first.runId, "sync");
  expect(calls.map((c) => `${c.tool} ${c.operation}`)).toEqual([
    "payments_api GET /charges",
    "payments_api GET /charges",
    "llm summarize",
  ]);
  expect(calls[2]!.usage).toMatchObject({ model: "demo-model", outputTokens: 12 });
  // Each page is a child step: its call and links belong to it.
  expect(calls.map((c) => c.childId)).toEqual(["page-1", "page-2", undefined]);
  const pages = await b.loadStepChildren("api-sync", first.runId, "sync");
  expect(pages.map((c) => [c.childId, c.status, c.output])).toEqual([
    ["page-1", "ok", "1500"],
    ["page-2", "ok", "1500"],
  ]);
  expect(
    (await b.getStepLinks("api-sync", first.runId, "sync")).every(
      (l) => l.childId === "page-1" || l.childId === "page-2",
    ),
  ).toBe(true);
  expect(JSON.parse((await b.getStepState("api-sync", first.runId, "sync"))!.output!)).toMatchObject({ amount: 3000 });
  expect((await b.getRunUsage(first.runId)).totals.calls).toBe(1);
  expect(await b.getStepLinks("api-sync", first.runId, "sync")).toHaveLength(10);
  expect((await b.getStepState("api-sync", first.runId, "sync"))?.progress).toMatchObject({
    fraction: 1,
    message: "page 2",
    items: { total: 10, processed: 10 },
  });

  const second = await env.run("api-sync", { pages: 1, pageSize: 5 });
  expect((await b.getRun(second.runId))?.counters).toEqual({ fetched: 5, updated: 5 });
  const touched = await b.findEntityLinks({ entityType: "charge", entityId: "ch_0001" });
  expect(touched.map((l) => [l.runId, l.linkType])).toEqual([
    [second.runId, "updated"],
    [first.runId, "output"],
  ]);
});
