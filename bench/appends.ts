/** Workload 1: events appended per second, appendEvent (1 and 4 in flight) and batchAppendEvents (100 events, 10 runs). */
import { newEventId, type Backend, type Event } from "@cairn/backend-interface";
import { createDriver, type DriverName } from "./drivers.js";
import { emit, emitError, progress, type BenchContext } from "./report.js";
import { fsyncCount } from "./fsync-counter.js";
import { max, median, MemSampler, min, throughput } from "./stats.js";
import { registerManual } from "../test-support/register.js";

const SLUG = "ingest-orders";

function logEvent(b: Backend, runId: string, i: number): Event {
  const t = b.clock.nowUs();
  return {
    eventId: newEventId(t),
    timestampUs: t,
    workflowSlug: SLUG,
    runId,
    category: "step",
    stepId: "process",
    type: "LogEntry",
    stream: "stdout",
    message: `processed item ${i} of the batch`,
    attemptNumber: 1,
  } as Event;
}

async function runIds(b: Backend, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await b.submitRun({ workflowSlug: SLUG, input: { i } })).runId);
  return ids;
}

export async function benchAppends(ctx: BenchContext): Promise<void> {
  const variants = [
    { method: "appendEvent", inFlight: 1, batch: 1 },
    { method: "appendEvent", inFlight: 4, batch: 1 },
    { method: "batchAppendEvents", inFlight: 1, batch: 100, runsPerBatch: 10 },
  ];
  for (const driver of ctx.drivers) {
    for (const v of variants) {
      const params = { ...v };
      progress(`append ${driver} ${JSON.stringify(params)}`);
      try {
        const values: number[] = [];
        const fsyncs: number[] = [];
        const sampler = new MemSampler();
        for (let r = 0; r < ctx.runs(); r++) {
          const inst = await createDriver(driver as DriverName);
          try {
            await registerManual(inst.backend, SLUG);
            const b = inst.backend;
            const ids = await runIds(b, 10);
            let i = 0;
            const f0 = fsyncCount();
            const res = await throughput(v.inFlight, ctx.windowMs, 1e9, async () => {
              if (v.batch === 1) {
                const k = i++;
                await b.appendEvent(SLUG, ids[k % ids.length]!, logEvent(b, ids[k % ids.length]!, k));
                return 1;
              }
              const items = Array.from({ length: v.batch }, (_, j) => {
                const runId = ids[j % (v.runsPerBatch ?? 1)]!;
                return { workflowSlug: SLUG, runId, event: logEvent(b, runId, i++) };
              });
              await b.batchAppendEvents(items);
              return v.batch;
            });
            values.push(res.perSecond);
            fsyncs.push((fsyncCount() - f0) / res.units);
          } finally {
            await inst.destroy();
          }
        }
        const mem = sampler.stop();
        emit(ctx, {
          workload: "append",
          driver,
          params,
          runs: values.length,
          median: median(values),
          unit: "events/s",
          min: min(values),
          max: max(values),
          peakRssBytes: mem.peakRssBytes,
          ...(driver.startsWith("fs") ? { fsyncsPerEvent: median(fsyncs) } : {}),
        });
      } catch (err) {
        emitError(ctx, "append", driver, params, err);
      }
    }
  }
}
