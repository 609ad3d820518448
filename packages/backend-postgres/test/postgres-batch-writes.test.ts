import { describe, expect, it } from "vitest";
import pg from "pg";
import { PostgresBackend } from "../src/index.js";
import { expectProjectionsMatchEvents, onCleanup, withClient } from "./helpers.js";
import { freshSchema } from "../../../test-support/postgres.js";
import { registerManual } from "../../../test-support/register.js";

/** A backend on its own pool whose round trips (client.query calls) and commits are counted. */
async function countingBackend(): Promise<{
  backend: PostgresBackend;
  trips: () => number;
  commits: () => number;
  url: string;
  schema: string;
}> {
  const { schema, url, drop } = await freshSchema("pgbc");
  onCleanup(drop);
  let trips = 0;
  let commits = 0;
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on("connect", (client) => {
    const q = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      trips++;
      if (a[0] === "COMMIT") commits++;
      return q(...a);
    };
  });
  const backend = new PostgresBackend({ pool, schema, listen: false });
  onCleanup(async () => {
    await backend.close();
    await pool.end();
  });
  await backend.initialize();
  await registerManual(backend, "wf");
  return { backend, trips: () => trips, commits: () => commits, url, schema };
}

const meta = (attemptNumber: number, output: unknown, extra: object = {}) => ({
  timestamp: 0,
  duration: 42,
  attemptNumber,
  output,
  ...extra,
});

describe("postgres batch completions", () => {
  it("writes a batch in one transaction of four round trips (BEGIN, one lock, one write, COMMIT), with states equal to the reducers' and analytics columns filled", async () => {
    const { backend, trips, commits, url, schema } = await countingBackend();
    const runIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { runId } = await backend.submitRun({ workflowSlug: "wf" });
      runIds.push(runId);
      await backend.scheduleStep("wf", runId, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
    }
    const claimed = await backend.claimScheduledSteps("w", { limit: 6 });
    expect(claimed).toHaveLength(6);
    const before = trips();
    const commitsBefore = commits();
    const logs = [{ timestampUs: 1, stream: "stderr" as const, message: "warn", attemptNumber: 1 }];
    const res = await backend.saveStepCompletes(
      claimed.map((c, i) => ({
        ...c,
        output: { i },
        exportOutput: i % 2 === 0,
        metadata: meta(
          c.attemptNumber,
          { i },
          i === 0 ? { logs, resourceUsage: { cpuUserUs: 5, cpuSystemUs: 1, maxRssBytes: 1024 } } : {},
        ),
      })),
    );
    expect(res.every((r) => r.ok)).toBe(true);
    expect(commits() - commitsBefore, "one commit for the whole batch").toBe(1);
    expect(trips() - before, "BEGIN, one lock of every run, one write of every run, COMMIT").toBe(4);
    await expectProjectionsMatchEvents(backend, "wf", runIds);
    const rows = await withClient(
      url,
      async (c) =>
        (await c.query(`SELECT type, duration_us, attempt_number FROM "${schema}".events WHERE type = 'StepCompleted'`))
          .rows,
    );
    expect(rows).toHaveLength(6);
    for (const r of rows) expect(r).toMatchObject({ duration_us: "42", attempt_number: 1 });
  });

  it("gives refused items their exact verdicts and still writes the others in the same transaction", async () => {
    const { backend } = await countingBackend();
    const { runId } = await backend.submitRun({ workflowSlug: "wf" });
    for (const s of ["a", "b", "c"])
      await backend.scheduleStep("wf", runId, s, { availableAt: 0, reason: "initial", attemptNumber: 1 });
    await backend.claimScheduledSteps("w", { limit: 2 }); // a, b
    const res = await backend.saveStepCompletes([
      { workflowSlug: "wf", runId, stepId: "a", output: 1, metadata: meta(1, 1) },
      { workflowSlug: "wf", runId, stepId: "c", output: 2, metadata: meta(1, 2) }, // scheduled, not running
      { workflowSlug: "wf", runId, stepId: "b", output: 3, metadata: meta(1, 3) },
      { workflowSlug: "wf", runId, stepId: "a", output: 4, metadata: meta(1, 4) }, // second completion of a
    ]);
    expect(res.map((r) => (r.ok ? "ok" : r.error.code))).toEqual(["ok", "STALE_ATTEMPT", "ok", "STALE_ATTEMPT"]);
    expect((await backend.getStepState("wf", runId, "a"))?.output).toBe("1");
    expect((await backend.getStepState("wf", runId, "c"))?.status).toBe("scheduled");
    await expectProjectionsMatchEvents(backend, "wf", [runId]);
  });

  it("a bulk submission refreshes the planner statistics of a fresh table once, not once per chunk", async () => {
    const { schema, url, drop } = await freshSchema("pgan");
    onCleanup(drop);
    const backend = new PostgresBackend({ connectionString: url, schema, listen: false });
    onCleanup(() => backend.close());
    await backend.initialize();
    const steps = [{ id: "a", name: "A" }];
    await backend.createWorkflowVersion({ workflowSlug: "wf", versionId: "v1", contentHash: "h1", steps });
    await backend.registerWorkflow({ slug: "wf", name: "wf", versionId: "v1", steps });
    const known = () =>
      withClient(url, async (c) =>
        Number(
          (await c.query(`SELECT reltuples FROM pg_class WHERE oid = '"${schema}".steps'::regclass`)).rows[0].reltuples,
        ),
      );
    // Autovacuum stays out of the way: only the driver analyzes this table during the test.
    await withClient(url, (c) => c.query(`ALTER TABLE "${schema}".steps SET (autovacuum_enabled = false)`));
    expect(await known()).toBe(-1); // never analyzed
    const outcomes = await backend.submitRuns(
      Array.from({ length: 5_000 }, (_, i) => ({ workflowSlug: "wf", input: { i } })),
    );
    expect(outcomes.every((o) => o.ok && o.isNew)).toBe(true);
    // Analyzed once the first chunk of 1,000 was in (the second, written alongside, may be in too), then no more: the
    // planner scales what it knows by the table's size. Analyzing after every chunk would leave 5,000 here.
    const rows = await known();
    expect(rows).toBeGreaterThanOrEqual(1_000);
    expect(rows).toBeLessThanOrEqual(2_000);
  });

  it("a completion batch finds its rows through the indexes, however large the tables (no sequential scan)", async () => {
    const { schema, url, drop } = await freshSchema("pgplan");
    onCleanup(drop);
    const seen: Array<{ name?: string; text: string; values: unknown[] }> = [];
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    pool.on("connect", (client) => {
      const q = client.query.bind(client) as (...a: unknown[]) => unknown;
      (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
        const stmt = a[0] as { name?: string; text?: string; values?: unknown[] };
        if (typeof stmt === "object" && stmt?.name?.endsWith(":writeMany"))
          seen.push({ text: stmt.text!, values: stmt.values ?? [] });
        return q(...a);
      };
    });
    const backend = new PostgresBackend({ pool, schema, listen: false });
    onCleanup(async () => {
      await backend.close();
      await pool.end();
    });
    await backend.initialize();
    const steps = [{ id: "s", name: "S" }];
    await backend.createWorkflowVersion({ workflowSlug: "wf", versionId: "v1", contentHash: "h1", steps });
    await backend.registerWorkflow({ slug: "wf", name: "wf", versionId: "v1", steps });
    expect(
      (await backend.submitRuns(Array.from({ length: 3_000 }, () => ({ workflowSlug: "wf" })))).every((o) => o.ok),
    ).toBe(true);
    await withClient(url, (c) => c.query(`ANALYZE "${schema}".steps, "${schema}".runs`));
    const claimed = await backend.claimScheduledSteps("w", { limit: 5 });
    expect(
      (
        await backend.saveStepCompletes(claimed.map((c) => ({ ...c, output: 1, metadata: meta(c.attemptNumber, 1) })))
      ).every((r) => r.ok),
    ).toBe(true);
    const write = seen.at(-1)!;
    expect(write, "the batch went through the writeMany statement").toBeDefined();
    const plan = await withClient(
      url,
      async (c) => (await c.query(`EXPLAIN (FORMAT JSON) ${write.text}`, write.values)).rows[0]["QUERY PLAN"][0].Plan,
    );
    const scans: string[] = [];
    const walk = (n: { "Node Type": string; "Relation Name"?: string; Plans?: unknown[] }) => {
      if (n["Node Type"] === "Seq Scan" && n["Relation Name"]) scans.push(n["Relation Name"]);
      for (const child of n.Plans ?? []) walk(child as typeof n);
    };
    walk(plan);
    expect(scans, "tables read whole by a batch of 5 completions").toEqual([]);
  });
});
