import { describe, expect, it } from "vitest";
import { isCairnError } from "@cairn/backend-interface";
import { PostgresBackend } from "../src/index.js";
import { startEmbedded, type EmbeddedServer } from "../../../test-support/embedded-postgres.js";
import { expectProjectionsMatchEvents, onCleanup } from "./helpers.js";
import { registerManual } from "../../../test-support/register.js";

/** Retries `fn` while it fails with BACKEND_UNAVAILABLE (the server is coming back). */
async function whenBack<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!isCairnError(err, "BACKEND_UNAVAILABLE") || i > 200) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe("Postgres server restart (own embedded-postgres server)", () => {
  it("fails calls with retryable BACKEND_UNAVAILABLE while the server is down and recovers (pool and LISTEN) when it is back", async (ctx) => {
    let srv: EmbeddedServer;
    try {
      srv = await startEmbedded();
    } catch (err) {
      console.warn(`[postgres] skipping the restart test: ${err instanceof Error ? err.message : String(err)}`);
      ctx.skip();
      return;
    }
    onCleanup(() => srv.destroy());
    const backend = new PostgresBackend({ connectionString: srv.url, schema: "restart", poolSize: 3 });
    onCleanup(() => backend.close());
    await backend.initialize();
    await registerManual(backend, "wf");
    let wakes = 0;
    onCleanup(backend.subscribe(() => wakes++));
    await backend.submitRun({ workflowSlug: "wf", runId: "r1" });
    for (const s of ["a", "b", "c", "d"])
      await backend.scheduleStep("wf", "r1", s, { availableAt: 0, reason: "initial", attemptNumber: 1 });
    const [first] = await backend.claimScheduledSteps("w", { limit: 1 });

    await srv.stop();
    for (const call of [
      () => backend.getRun("r1"),
      () => backend.claimScheduledSteps("w", { limit: 2 }),
      () => backend.saveStepHeartbeat("wf", "r1", first!.stepId, "w", 1),
    ]) {
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isCairnError(err, "BACKEND_UNAVAILABLE") && (err as { retryable: boolean }).retryable, String(err)).toBe(
        true,
      );
    }
    const wakesBefore = wakes;

    await srv.start();
    await whenBack(() =>
      backend.saveStepComplete("wf", "r1", first!.stepId, 1, {
        timestamp: 0,
        duration: 1,
        attemptNumber: 1,
        output: 1,
      }),
    );
    const rest = await whenBack(() => backend.claimScheduledSteps("w", { limit: 10 }));
    expect(rest.map((r) => r.stepId).sort()).toEqual(["a", "b", "c", "d"].filter((s) => s !== first!.stepId));
    for (const r of rest)
      await backend.saveStepComplete("wf", "r1", r.stepId, 1, {
        timestamp: 0,
        duration: 1,
        attemptNumber: 1,
        output: 1,
      });
    await expectProjectionsMatchEvents(backend, "wf", ["r1"]);
    expect(
      (await backend.loadEvents("wf", "r1", { category: "step" })).filter((e) => e.type === "StepCompleted"),
    ).toHaveLength(4);
    for (let i = 0; i < 100 && wakes === wakesBefore; i++) await new Promise((r) => setTimeout(r, 50));
    expect(wakes, "the LISTEN connection came back (it wakes subscribers on reconnect)").toBeGreaterThan(wakesBefore);
  }, 60_000);
});
