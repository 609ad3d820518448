/**
 * Dev script: how many Backend calls the worker makes per step. Submits N runs of a bench workflow, then drains them
 * with one in-process worker (`once`) whose backend is wrapped in a counting Proxy (the worker's own calls only: a
 * method calls the real backend, so a Backend method's internal calls are not counted).
 *
 *   node --import tsx packages/worker/scripts/calls-per-step.ts [backend-url] [workflow] [runs] [concurrency]
 *   e.g. sqlite:/tmp/calls.db noop-5 100 4   (default: a fresh SQLite file)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Backend } from "@cairn/backend-interface";
import { openBackend, startWorker } from "../src/index.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const tmp = mkdtempSync(join(tmpdir(), "cairn-calls-"));
const url = process.argv[2] && process.argv[2] !== "-" ? process.argv[2] : `sqlite:${join(tmp, "calls.db")}`;
const slug = process.argv[3] ?? "noop-5";
const runs = Number(process.argv[4] ?? 100);
const concurrency = Number(process.argv[5] ?? 4);

const backend = await openBackend(url);
const counts = new Map<string, number>();
let counting = false;
const counted = new Proxy(backend, {
  get(target, prop, _receiver) {
    const v = Reflect.get(target, prop, target) as unknown;
    if (typeof v !== "function" || typeof prop !== "string") return v;
    return (...args: unknown[]) => {
      if (counting) counts.set(prop, (counts.get(prop) ?? 0) + 1);
      return (v as (...a: unknown[]) => unknown).apply(target, args);
    };
  },
}) as Backend;

const handle0 = await startWorker({ backend, workflowsDir: join(ROOT, "bench/workflows"), once: true, concurrency }); // registers
await handle0.done;
for (let i = 0; i < runs; i++) await backend.submitRun({ workflowSlug: slug, input: { i } });
const stepsPerRun = handle0.workflows.find((w) => w.slug === slug)!.steps.length;
counting = true;
const t0 = performance.now();
const handle = await startWorker({
  backend: counted,
  workflows: handle0.workflows,
  register: false,
  once: true,
  concurrency,
});
let errors = 0;
handle.events.on((e) => {
  if (e.type === "error") {
    errors++;
    if (errors < 5) console.error(e.where, e.error);
  }
});
await handle.done;
const ms = performance.now() - t0;
counting = false;
const steps = runs * stepsPerRun;
const total = [...counts.values()].reduce((a, b) => a + b, 0);
const finished = await backend.listRuns({ workflowSlug: slug, status: ["completed"], limit: runs + 1 });
const done = finished.length;
const span =
  (Math.max(...finished.map((r) => r.endedAtUs ?? 0)) - Math.min(...finished.map((r) => r.startedAtUs ?? Infinity))) /
  1e6;
console.log(
  `first start → last end: ${(span * 1000).toFixed(0)} ms = ${(steps / span).toFixed(0)} steps/s (the benchmark's measure)`,
);
console.log(
  `${url.split(":")[0]} ${slug}: ${done}/${runs} runs completed, ${steps} steps in ${ms.toFixed(0)} ms (${(steps / (ms / 1000)).toFixed(0)} steps/s incl. shutdown), errors ${errors}`,
);
console.log(`backend calls per step: ${(total / steps).toFixed(2)} (total ${total})`);
for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1]))
  console.log(`  ${k.padEnd(32)} ${(n / steps).toFixed(3)}  (${n})`);
await backend.close();
rmSync(tmp, { recursive: true, force: true });
