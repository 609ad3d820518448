import { expect, it } from "vitest";
import { BackendUnavailableError, isCairnError } from "@cairn/backend-interface";
import { describePostgres } from "../../../test-support/postgres.js";
import { expectProjectionsMatchEvents, freshBackend, race, sameSchema, withClient } from "./helpers.js";
import { registerManual } from "../../../test-support/register.js";

const terminate = (url: string, appName: string) =>
  withClient(url, (c) =>
    c.query(
      "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
      [appName],
    ),
  );

describePostgres("Postgres concurrency", () => {
  it("batch claims from 4 processes: every step claimed and completed exactly once", async () => {
    const { backend, schema, url } = await freshBackend();
    await registerManual(backend, "wf");
    const expected: string[] = [];
    for (let i = 0; i < 40; i++) {
      await backend.submitRun({ workflowSlug: "wf", runId: `r${i}` });
      for (const s of ["a", "b"]) {
        await backend.scheduleStep("wf", `r${i}`, s, { availableAt: 0, reason: "initial", attemptNumber: 1 });
        expected.push(`r${i}/${s}`);
      }
    }
    const results = await race<string[]>(url, schema, "batch", "5", 4);
    const all = results.flat().sort();
    expect(all).toEqual(expected.sort());
    expect(new Set(all).size).toBe(all.length);
    const events = await withClient(url, (c) =>
      c.query(`SELECT count(*)::int AS n FROM "${schema}".events WHERE type = 'StepStarted'`),
    );
    expect(events.rows[0].n).toBe(expected.length);
  });

  it("first writes of a new step or run race safely: one initial schedule wins, no projection row is overwritten", async () => {
    const { backend, schema, url } = await freshBackend();
    await registerManual(backend, "wf");
    const others = await Promise.all([1, 2, 3].map(() => sameSchema(url, schema)));
    const all = [backend, ...others];
    await backend.submitRun({ workflowSlug: "wf", runId: "r1" });
    for (let round = 0; round < 5; round++) {
      const wins = await Promise.all(
        all.flatMap((b) =>
          [0, 1].map(() =>
            b.scheduleStep("wf", "r1", `s${round}`, { availableAt: 0, reason: "initial", attemptNumber: 1 }),
          ),
        ),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
      // Concurrent first workflow events of a run that has no row yet (appendEvent, not submitRun).
      await Promise.all(
        all.map((b, i) =>
          b.saveWorkflowResumed("wf", `fresh-${round}`, { originalRunId: "r1", resumedSteps: i, pendingSteps: 0 }),
        ),
      );
    }
    await expectProjectionsMatchEvents(backend, "wf", ["r1", ...[0, 1, 2, 3, 4].map((r) => `fresh-${r}`)]);
  });

  it("wakes a subscriber within milliseconds of a commit that schedules a step, and again after its connection is killed", async () => {
    const { backend, schema, url } = await freshBackend({ applicationName: "cairn-notify-test" });
    const writer = await sameSchema(url, schema);
    await registerManual(writer, "wf");
    await writer.submitRun({ workflowSlug: "wf", runId: "r" });
    let wake: (() => void) | null = null;
    const unsubscribe = backend.subscribe(() => wake?.());
    const next = () => new Promise<void>((resolve) => (wake = resolve));
    await next(); // the first wake-up comes when LISTEN is established
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const woke = next();
      const t0 = performance.now();
      await writer.scheduleStep("wf", "r", `s${i}`, { availableAt: 0, reason: "initial", attemptNumber: 1 });
      await woke;
      latencies.push(performance.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `[postgres] wake-up latency p50 ${latencies[10]!.toFixed(2)} ms, max ${latencies[19]!.toFixed(2)} ms (includes the commit)`,
    );
    expect(latencies[10]!).toBeLessThan(50);
    const reconnected = next();
    const killed = await terminate(url, "cairn-notify-test-listen");
    expect(killed.rows[0].n).toBe(1);
    await reconnected; // the reconnect fires a wake-up
    const woke = next();
    await writer.scheduleStep("wf", "r", "after", { availableAt: 0, reason: "initial", attemptNumber: 1 });
    await woke;
    unsubscribe();
  });

  it("surfaces killed connections as retryable BACKEND_UNAVAILABLE and recovers without losing or duplicating events", async () => {
    const { backend, schema, url } = await freshBackend({ applicationName: "cairn-chaos" });
    await registerManual(backend, "wf");
    const runs = Array.from({ length: 10 }, (_, i) => `r${i}`);
    let unavailable = 0;
    const retry = async <T>(fn: () => Promise<T>): Promise<T> => {
      for (;;) {
        try {
          return await fn();
        } catch (err) {
          if (!(err instanceof BackendUnavailableError) || !isCairnError(err, "BACKEND_UNAVAILABLE") || !err.retryable)
            throw err;
          unavailable++;
        }
      }
    };
    let stop = false;
    const killer = (async () => {
      while (!stop) {
        await terminate(url, "cairn-chaos");
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    try {
      for (const runId of runs) {
        await retry(() => backend.submitRun({ workflowSlug: "wf", runId, idempotencyKey: runId }));
        for (const s of ["a", "b", "c"])
          await retry(() =>
            backend.scheduleStep("wf", runId, s, { availableAt: 0, reason: "initial", attemptNumber: 1 }),
          );
      }
      for (let done = 0; done < runs.length * 3;) {
        const got = await retry(() => backend.claimScheduledSteps("w", { limit: 4 }));
        for (const g of got) {
          await retry(async () => {
            try {
              await backend.saveStepComplete(g.workflowSlug, g.runId, g.stepId, 1, {
                timestamp: 0,
                duration: 1,
                attemptNumber: g.attemptNumber,
                output: 1,
              });
            } catch (err) {
              // A completion whose COMMIT was acknowledged too late is already written: the fence now says so.
              if (
                isCairnError(err, "STALE_ATTEMPT") &&
                (await backend.getStepState(g.workflowSlug, g.runId, g.stepId))?.status === "completed"
              )
                return;
              throw err;
            }
          });
          done++;
        }
      }
    } finally {
      stop = true;
      await killer;
    }
    console.log(`[postgres] chaos: ${unavailable} calls saw BACKEND_UNAVAILABLE and were retried`);
    expect(unavailable).toBeGreaterThan(0);
    await expectProjectionsMatchEvents(backend, "wf", runs);
    const dup = await withClient(url, (c) =>
      c.query(
        `SELECT count(*)::int AS n FROM (SELECT event_id FROM "${schema}".events GROUP BY event_id HAVING count(*) > 1) d`,
      ),
    );
    expect(dup.rows[0].n).toBe(0);
    const started = await withClient(url, (c) =>
      c.query(`SELECT count(*)::int AS n FROM "${schema}".events WHERE type = 'StepCompleted'`),
    );
    expect(started.rows[0].n).toBe(30);
  });
});
