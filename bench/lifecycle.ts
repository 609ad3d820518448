/**
 * Workload 2: the full life of a single-step run through the Backend (submitRun, startRun, scheduleStep,
 * claimScheduledStep, saveStepComplete, saveWorkflowComplete), with 1 and 4 runs in flight (concurrent async loops in
 * one process, sharing one backend). Runs per second; one step per run, so steps/s is the same number.
 */
import type { Backend } from "@cairn/backend-interface";
import { createDriver, type DriverName } from "./drivers.js";
import { emit, emitError, progress, type BenchContext } from "./report.js";
import { fsyncCount } from "./fsync-counter.js";
import { max, median, MemSampler, min, throughput } from "./stats.js";
import { registerManual } from "../test-support/register.js";

export const LIFE_SLUG = "ingest-orders";

/** One run's full life; throws if any step of it is refused. */
export async function oneLife(b: Backend, n: number, workerId: string): Promise<void> {
  const slug = LIFE_SLUG;
  const { runId } = await b.submitRun({ workflowSlug: slug, input: { orderId: n } });
  if (!(await b.startRun(slug, runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: true })))
    throw new Error(`startRun refused ${runId}`);
  if (
    !(await b.scheduleStep(slug, runId, "process", {
      availableAt: b.clock.nowUs(),
      reason: "initial",
      attemptNumber: 1,
    }))
  )
    throw new Error(`scheduleStep refused ${runId}`);
  const claimed = await b.claimScheduledStep(slug, runId, "process", workerId, {
    dependencies: [],
    timestamp: Date.now() * 1000,
    attemptNumber: 1,
  });
  if (!claimed) throw new Error(`claimScheduledStep returned null for ${runId}`);
  await b.saveStepComplete(
    slug,
    runId,
    "process",
    { ok: true, n },
    { timestamp: Date.now() * 1000, duration: 250, attemptNumber: claimed.attemptNumber, output: { ok: true, n } },
    true,
  );
  await b.saveWorkflowComplete(
    slug,
    runId,
    { process: { ok: true, n } },
    { workflowAttemptNumber: 1, timestamp: Date.now() * 1000, duration: 1000, totalSteps: 1 },
  );
}

export const LIFECYCLE_TARGETS: Record<string, Record<number, { value: number; text: string }>> = {
  fs: { 4: { value: 250, text: "≥250 runs/s (4 in flight, fsync)" } },
  "fs-none": { 4: { value: 1000, text: "≥1,000 runs/s (durability none)" } },
  sqlite: { 4: { value: 5000, text: "≥5,000 steps/s (4 concurrent claimers)" } },
};

export async function benchLifecycle(ctx: BenchContext): Promise<void> {
  for (const driver of ctx.drivers) {
    for (const inFlight of [1, 4]) {
      const params = { inFlight, stepsPerRun: 1 };
      progress(`lifecycle ${driver} ${JSON.stringify(params)}`);
      try {
        const values: number[] = [];
        const fsyncs: number[] = [];
        const sampler = new MemSampler();
        for (let r = 0; r < ctx.runs(); r++) {
          const inst = await createDriver(driver as DriverName);
          try {
            await registerManual(inst.backend, LIFE_SLUG);
            await oneLife(inst.backend, -1, "warmup"); // warm up prepared statements / directories
            let n = 0;
            const f0 = fsyncCount();
            const res = await throughput(inFlight, ctx.windowMs, 1e9, async (loop) => {
              await oneLife(inst.backend, n++, `bench-worker-${loop}`);
              return 1;
            });
            values.push(res.perSecond);
            fsyncs.push((fsyncCount() - f0) / res.units);
          } finally {
            await inst.destroy();
          }
        }
        const mem = sampler.stop();
        const target = LIFECYCLE_TARGETS[driver]?.[inFlight];
        emit(ctx, {
          workload: "lifecycle",
          driver,
          params,
          runs: values.length,
          median: median(values),
          unit: "runs/s",
          min: min(values),
          max: max(values),
          peakRssBytes: mem.peakRssBytes,
          ...(driver.startsWith("fs") ? { fsyncsPerRun: median(fsyncs) } : {}),
          ...(target ? { target: target.text, targetMet: median(values) >= target.value } : {}),
        });
      } catch (err) {
        emitError(ctx, "lifecycle", driver, params, err);
      }
    }
  }
}
