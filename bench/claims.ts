/**
 * Claim → complete of already-scheduled steps (one step per run, runs started and steps scheduled beforehand), with 1
 * and 4 concurrent claimers in one process:
 *  - unbatched: claimScheduledStep + saveStepComplete per step. Claimers take the next step from a shared in-process
 *    list, so they do not collide on one step (this measures the write path, not contention).
 *  - batch (drivers with capabilities.batchClaim): claimScheduledSteps({limit: 32}) then the claimed steps'
 *    saveStepComplete concurrently;
 *  - batch+batchComplete: claimScheduledSteps({limit: 32}) then one saveStepCompletes for them (one statement on
 *    Postgres, one transaction on SQLite).
 * The Postgres issue asks for this on Postgres; every driver is measured, as the worker's baseline.
 */
import { newEventId, type Backend, type Event } from "@cairn/backend-interface";
import { createDriver, type DriverName } from "./drivers.js";
import { emit, emitError, progress, type BenchContext } from "./report.js";
import { max, median, MemSampler, min, pool, throughput } from "./stats.js";
import { registerManual } from "../test-support/register.js";

const SLUG = "ingest-orders";

/** `n` runs, started, each with step "process" scheduled and available now. */
export async function prepareScheduled(b: Backend, n: number, concurrency = 8): Promise<Array<{ runId: string }>> {
  const refs: Array<{ runId: string }> = [];
  const ids = Array.from({ length: n }, (_, i) => i);
  let items: Array<{ workflowSlug: string; runId: string; event: Event }> = [];
  const flushes: Promise<void>[] = [];
  await pool(ids, concurrency, async (i) => {
    const { runId } = await b.submitRun({ workflowSlug: SLUG, input: { orderId: i } });
    refs.push({ runId });
    const t = b.clock.nowUs();
    items.push(
      {
        workflowSlug: SLUG,
        runId,
        event: {
          eventId: newEventId(t),
          timestampUs: t,
          workflowSlug: SLUG,
          runId,
          category: "workflow",
          type: "WorkflowStarted",
          workflowAttemptNumber: 1,
          hasInputSchema: false,
          hasInput: true,
        } as Event,
      },
      {
        workflowSlug: SLUG,
        runId,
        event: {
          eventId: newEventId(t + 1),
          timestampUs: t + 1,
          workflowSlug: SLUG,
          runId,
          category: "step",
          stepId: "process",
          type: "StepScheduled",
          availableAtUs: t,
          reason: "initial",
          attemptNumber: 1,
          priority: 0,
        } as Event,
      },
    );
    if (items.length >= 200) {
      flushes.push(b.batchAppendEvents(items));
      items = [];
    }
  });
  if (items.length) flushes.push(b.batchAppendEvents(items));
  await Promise.all(flushes);
  return refs;
}

/** Steps prepared for the first repetition; later ones prepare 1.3 × what the previous one managed in a window. */
const PREPARE_FIRST: Record<DriverName, number> = { fs: 400, "fs-none": 800, sqlite: 3000, postgres: 1000 };

export async function claimCompleteRate(
  b: Backend,
  refs: Array<{ runId: string }>,
  claimers: number,
  windowMs: number,
  batch: number,
  batchComplete = false,
): Promise<number> {
  let next = 0;
  const res = await throughput(claimers, windowMs, 1e9, async (loop) => {
    const workerId = `bench-claimer-${loop}`;
    if (batch === 0) {
      const ref = refs[next++];
      if (!ref) return 0;
      const c = await b.claimScheduledStep(SLUG, ref.runId, "process", workerId, {
        dependencies: [],
        timestamp: Date.now() * 1000,
        attemptNumber: 1,
      });
      if (!c) throw new Error(`claim of ${ref.runId} returned null`);
      await b.saveStepComplete(
        SLUG,
        ref.runId,
        "process",
        { ok: true },
        { timestamp: Date.now() * 1000, duration: 100, attemptNumber: c.attemptNumber, output: { ok: true } },
        true,
      );
      return 1;
    }
    const claimed = await b.claimScheduledSteps(workerId, { limit: batch, workflowSlug: SLUG });
    if (batchComplete) {
      if (claimed.length === 0) return 0;
      const outcomes = await b.saveStepCompletes(
        claimed.map((c) => ({
          workflowSlug: c.workflowSlug,
          runId: c.runId,
          stepId: c.stepId,
          output: { ok: true },
          metadata: {
            timestamp: Date.now() * 1000,
            duration: 100,
            attemptNumber: c.attemptNumber,
            output: { ok: true },
          },
          exportOutput: true,
        })),
      );
      const refused = outcomes.find((o) => !o.ok);
      if (refused && !refused.ok) throw refused.error;
      return claimed.length;
    }
    await Promise.all(
      claimed.map((c) =>
        b.saveStepComplete(
          c.workflowSlug,
          c.runId,
          c.stepId,
          { ok: true },
          { timestamp: Date.now() * 1000, duration: 100, attemptNumber: c.attemptNumber, output: { ok: true } },
          true,
        ),
      ),
    );
    return claimed.length;
  });
  return res.perSecond;
}

export async function benchClaims(ctx: BenchContext): Promise<void> {
  const variants = [
    { claimers: 1, batch: 0, batchComplete: false },
    { claimers: 4, batch: 0, batchComplete: false },
    { claimers: 1, batch: 32, batchComplete: false },
    { claimers: 4, batch: 32, batchComplete: false },
    { claimers: 1, batch: 32, batchComplete: true },
    { claimers: 4, batch: 32, batchComplete: true },
  ];
  for (const driver of ctx.drivers) {
    for (const v of variants) {
      const params = {
        claimers: v.claimers,
        mode: v.batchComplete ? "batch+batchComplete" : v.batch ? "batch" : "unbatched",
        ...(v.batch ? { claimLimit: v.batch } : {}),
      };
      let inst;
      try {
        inst = await createDriver(driver);
        await registerManual(inst.backend, SLUG);
        if (v.batch && !inst.backend.capabilities.batchClaim) {
          progress(`claims ${driver} ${JSON.stringify(params)}: skipped (no batchClaim capability)`);
          continue;
        }
        progress(`claims ${driver} ${JSON.stringify(params)}`);
        const values: number[] = [];
        const sampler = new MemSampler();
        let perRun = ctx.quick ? 200 : PREPARE_FIRST[driver];
        for (let r = 0; r < ctx.runs(); r++) {
          const refs = await prepareScheduled(inst.backend, perRun);
          // A repetition ends when the window is over or the prepared steps are used up (rate = steps / elapsed).
          const rate = await claimCompleteRate(inst.backend, refs, v.claimers, ctx.windowMs, v.batch, v.batchComplete);
          values.push(rate);
          if (!ctx.quick) perRun = Math.max(200, Math.ceil((rate * ctx.windowMs * 1.3) / 1000));
          // Leftovers (window ended first) are claimed away so the next repetition starts from an empty queue.
          if (v.batch) while ((await inst.backend.claimScheduledSteps("drain", { limit: 500 })).length);
        }
        const mem = sampler.stop();
        const target =
          driver === "postgres"
            ? v.batch
              ? { value: 10_000, text: "≥10,000 steps/s batched" }
              : { value: 3000, text: "≥3,000 steps/s unbatched" }
            : undefined;
        emit(ctx, {
          workload: "claim-complete",
          driver,
          params,
          runs: values.length,
          median: median(values),
          unit: "steps/s",
          min: min(values),
          max: max(values),
          peakRssBytes: mem.peakRssBytes,
          ...(target ? { target: target.text, targetMet: median(values) >= target.value } : {}),
        });
      } catch (err) {
        emitError(ctx, "claim-complete", driver, params, err);
      } finally {
        await inst?.destroy();
      }
    }
  }
}
