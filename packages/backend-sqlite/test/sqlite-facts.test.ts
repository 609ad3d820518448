import { afterEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { computeAnalyticsSummary, ManualClock, type Event } from "@cairn/backend-interface";
import { LATEST_SCHEMA_VERSION, loadMigrations, migrate, SqliteBackend } from "../src/index.js";
import { claimMeta, tempDb } from "./helpers.js";

const WF = "wf";
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A history touching every fact type: retries, a reclaim with a zombie heartbeat, a skip, a cancel, a rerun's copies. */
async function scenario(b: SqliteBackend, clock: ManualClock): Promise<void> {
  await b.registerWorkflow({
    slug: WF,
    name: "W",
    steps: [
      { id: "a", name: "a" },
      { id: "b", name: "b", dependencies: ["a"] },
    ],
  });
  for (let i = 0; i < 4; i++) {
    const { runId } = await b.submitRun({ workflowSlug: WF, runId: `r${i}` });
    await b.startRun(WF, runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false });
    await b.scheduleStep(WF, runId, "a", { availableAt: clock.nowUs(), reason: "initial", attemptNumber: 1 });
    clock.advanceMs(5);
    const a = (await b.claimScheduledStep(WF, runId, "a", `w${i % 2}`, claimMeta))!.attemptNumber;
    await b.saveStepHeartbeat(WF, runId, "a", `w${i % 2}`, a);
    clock.advanceMs(10);
    if (i === 1) {
      await b.saveStepFailedAndScheduleRetry(
        WF,
        runId,
        "a",
        { name: "E", message: "boom 42" },
        { duration: 10, attemptNumber: a, nextRetryAt: clock.nowUs(), failureReason: "execution-error" },
        { availableAt: clock.nowUs(), nextAttemptNumber: 2, retryDelayMs: 0, maxRetries: 3 },
      );
      await b.claimScheduledStep(WF, runId, "a", "w9", claimMeta);
      clock.advanceMs(120_000);
      await b.reclaimStaleSteps(60_000, "reaper");
      // A zombie's late heartbeat (fencing rejects it through saveStepHeartbeat; a raw append records it).
      clock.advanceMs(1);
      const t = clock.nowUs();
      await b.appendEvent(WF, runId, {
        eventId: "zombie-1",
        timestampUs: t,
        workflowSlug: WF,
        runId,
        category: "step",
        stepId: "a",
        type: "StepHeartbeat",
        workerId: "w9",
        attemptNumber: 2,
      });
      continue;
    }
    if (i === 2) {
      await b.saveStepFailed(
        WF,
        runId,
        "a",
        { message: "fatal" },
        { duration: 3, attemptNumber: a, terminal: true, failureReason: "execution-error" },
      );
      await b.saveStepSkipped(WF, runId, "b", {
        skipType: "cascade",
        reason: "a failed",
        duration: 0,
        attemptNumber: 1,
        cascadedFrom: "a",
      });
      await b.saveWorkflowFailed(
        WF,
        runId,
        { message: "a failed" },
        { workflowAttemptNumber: 1, duration: 20, completedSteps: 0, failedStep: "a" },
        "step-failed",
      );
      continue;
    }
    await b.saveStepComplete(WF, runId, "a", { i }, { timestamp: 0, duration: 10 + i, attemptNumber: a, output: null });
    if (i === 3) await b.cancelRun(runId, "enough");
    else
      await b.saveWorkflowComplete(
        WF,
        runId,
        {},
        { workflowAttemptNumber: 1, timestamp: 0, duration: 30, totalSteps: 1 },
      );
  }
  clock.advanceMs(1);
  await b.rerunFrom({ parentRunId: "r0", fromStepId: "b", runId: "r0-rerun" });
}

describe("event_facts", () => {
  it("migrations 0002-0003 backfill exactly the facts the driver writes, so analytics agree before and after an upgrade", async () => {
    const fresh = tempDb();
    const old = tempDb();
    cleanups.push(fresh.cleanup, old.cleanup);
    const clock = new ManualClock();
    const b1 = new SqliteBackend(fresh.filename, { clock });
    await b1.initialize();
    cleanups.push(() => b1.close());
    await scenario(b1, clock);

    // A version-1 database holding the same events (projections are not needed for facts).
    const raw = new Database(old.filename);
    raw.pragma("journal_mode = WAL");
    migrate(raw, old.filename, loadMigrations().slice(0, 1));
    raw.exec(`ATTACH '${fresh.filename}' AS src; INSERT INTO events SELECT * FROM src.events; DETACH src;`);
    raw.close();
    const b2 = new SqliteBackend(old.filename, { clock });
    await b2.initialize();
    cleanups.push(() => b2.close());
    expect(b2.driver.schemaVersion).toBe(LATEST_SCHEMA_VERSION);

    const facts = (f: string) => {
      const db = new Database(f, { readonly: true });
      const rows = db.prepare("SELECT * FROM event_facts ORDER BY timestamp_us, seq").all();
      db.close();
      return rows;
    };
    const written = facts(fresh.filename);
    expect(written.length).toBeGreaterThan(20);
    expect(facts(old.filename)).toEqual(written);

    const window = { startUs: 0, endUs: clock.nowUs() };
    const events = (await b1.loadEvents(WF, "r0")).concat(
      ...(await Promise.all(["r1", "r2", "r3", "r0-rerun"].map((r) => b1.loadEvents(WF, r)))),
    ) as Event[];
    const reference = computeAnalyticsSummary(events, await b1.getQueueDepth(), window, clock.nowUs());
    expect(await b1.getAnalyticsSummary(window)).toEqual(reference);
    expect(await b2.getAnalyticsSummary(window)).toEqual({ ...reference, queueDepth: await b2.getQueueDepth() });
    expect(reference.workerStability.totals.zombieHeartbeats).toBe(1);
    expect(reference.retryAnalysis.totalRetries).toBe(2);
  });
});
