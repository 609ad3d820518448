import { expect, it } from "vitest";
import { ManualClock, analyticsFixtureExpected, buildAnalyticsFixture, type Event } from "@cairn/backend-interface";
import { describePostgres } from "../../../test-support/postgres.js";
import { freshBackend, sameSchema, withClient } from "./helpers.js";

const BASE = Date.UTC(2026, 0, 2) * 1000;

describePostgres("Postgres migration 0006 (figure backfill)", () => {
  it("an upgraded database whose events predate the figure columns answers analytics exactly as before (NUL-holding bodies too)", async () => {
    const { backend, schema, url, clock } = await freshBackend({ manualClock: true });
    const items = buildAnalyticsFixture(BASE);
    // One failure whose free text holds a NUL (json `\u0000`), which Postgres cannot read with ->>.
    const nul = items.find((i) => i.event.type === "StepFailed")!;
    const ev = nul.event as Extract<Event, { type: "StepFailed" }>;
    nul.event = { ...ev, error: { ...ev.error, message: `${ev.error.message}\u0000 "attemptNumber":99` } } as Event;
    await backend.batchAppendEvents(items);
    const X = analyticsFixtureExpected(BASE);
    clock!.setUs(X.nowUs);
    const before = await backend.getAnalyticsSummary(X.window);
    const workers = await backend.getActiveWorkers({ includeInactive: true });
    // What a database written before migrations 0003-0005 looks like after they ran: empty figure columns.
    await withClient(url, async (c) => {
      await c.query(`UPDATE "${schema}".events SET duration_us = NULL, terminal = NULL, copied = false, attempt_number = NULL, available_at_us = NULL,
        worker_id = NULL, reason = NULL, worker_concurrency = NULL`);
      await c.query(`DELETE FROM "${schema}".migrations WHERE version >= 6`);
    });
    const upgraded = await sameSchema(url, schema, { clock: new ManualClock(X.nowUs) });
    expect(await upgraded.getAnalyticsSummary(X.window)).toEqual(before);
    expect(await upgraded.getActiveWorkers({ includeInactive: true })).toEqual(workers);
    const nulls = await withClient(url, (c) =>
      c.query(`SELECT count(*)::int AS n FROM "${schema}".events WHERE step_id IS NOT NULL AND attempt_number IS NULL`),
    );
    expect(nulls.rows[0].n).toBe(0);
  });
});
