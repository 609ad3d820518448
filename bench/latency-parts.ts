/**
 * Where Postgres's enqueue → start time goes, in one process without a worker:
 * `node -C @cairn/source --import tsx bench/latency-parts.ts [samples] [--flush-off]`.
 * Each sample submits one run of `stamp-1` (`submitRun`) and claims its step as the worker does (`claimSteps` with the
 * worker's scope, on the claim pool), 5 ms apart. Every statement the backend sends is timed from the moment it is
 * handed to `pg` to the moment its result is back, by wrapping `pg.Client.prototype.query`, so a sample splits into:
 *  - submitJs: JavaScript of `submitRun` before its statement is sent (validation, events, the statement's arrays);
 *  - submitStatement: the submit statement's round trip (server execution, commit with its WAL flush, network);
 *  - submitAfter: JavaScript after the result is back until `submitRun` returns;
 *  - claimJs, claimStatement, claimAfter: the same for `claimSteps`.
 * `--flush-off` opens the backend's sessions with `synchronous_commit = off` (a connection option: the server's own
 * settings are untouched), which shows what the WAL flush at commit costs; Cairn does not run that way, since a
 * commit that is visible before it is durable could let a feed reader see an event that a server crash then loses.
 * Prints p50 / p90 in ms per part on stderr and one JSON line on stdout.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { PostgresBackend } from "@cairn/backend-postgres";
import { discoverWorkflows, registerWorkflows } from "@cairn/worker";
import { DATABASE_URL, dropSchema } from "./drivers.js";
import { percentile, round, sleep } from "./stats.js";

const args = process.argv.slice(2);
const flushOff = args.includes("--flush-off");
const samples = Number(args.find((a) => !a.startsWith("--")) ?? "300");
if (!Number.isInteger(samples) || samples < 1) throw new Error("usage: bench/latency-parts.ts [samples] [--flush-off]");
const WORKFLOWS = join(dirname(fileURLToPath(import.meta.url)), "workflows");
const WARM_UP = 20;

/** Times of the statements sent since the last reset: [name, sent, received] (received NaN until it is back). */
const sent: Array<{ name: string; at: number; back: number }> = [];
const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
  const first = a[0] as { name?: string; text?: string } | string;
  const name = typeof first === "string" ? first : (first.name ?? first.text ?? "?");
  const entry = { name: name.split(":").pop()!, at: performance.now(), back: Number.NaN };
  sent.push(entry);
  const last = a.length - 1;
  if (typeof a[last] === "function") {
    const cb = a[last] as (...r: unknown[]) => void;
    a[last] = (...r: unknown[]) => {
      entry.back = performance.now();
      cb(...r);
    };
  }
  const out = query.apply(this, a);
  if (out instanceof Promise) void out.then(() => (entry.back = performance.now())).catch(() => {});
  return out;
} as typeof pg.Client.prototype.query;

const url = new URL(DATABASE_URL);
if (flushOff) url.searchParams.set("options", "-c synchronous_commit=off");
const schema = `bench_parts_${process.pid}_${Date.now().toString(36)}`;
const backend = new PostgresBackend({ connectionString: url.toString(), schema });
await backend.initialize();
const parts: Record<string, number[]> = {};
const add = (k: string, v: number) => (parts[k] ??= []).push(v);
try {
  const { workflows } = await discoverWorkflows(WORKFLOWS);
  await registerWorkflows(backend, workflows);
  const scope = { "stamp-1": { stamp: [] as string[] } };
  for (let i = 0; i < WARM_UP + samples; i++) {
    sent.length = 0;
    const t0 = performance.now();
    await backend.submitRun({ workflowSlug: "stamp-1", input: { i } });
    const t1 = performance.now();
    const submit = sent.find((s) => s.name === "submitMany");
    const claimed = await backend.claimSteps("parts", { limit: 4, workflows: scope });
    const t2 = performance.now();
    const claim = sent.find((s) => s.name.startsWith("claimScope"));
    if (claimed.length !== 1 || !submit || !claim || Number.isNaN(submit.back) || Number.isNaN(claim.back))
      throw new Error(`sample ${i}: claimed ${claimed.length}, statements ${sent.map((s) => s.name).join(", ")}`);
    if (i >= WARM_UP) {
      add("submitJs", submit.at - t0);
      add("submitStatement", submit.back - submit.at);
      add("submitAfter", t1 - submit.back);
      add("claimJs", claim.at - t1);
      add("claimStatement", claim.back - claim.at);
      add("claimAfter", t2 - claim.back);
      add("total", t2 - t0);
    }
    await sleep(5);
  }
} finally {
  await backend.close();
  await dropSchema(schema);
}
const out: Record<string, { p50: number; p90: number }> = {};
for (const [k, xs] of Object.entries(parts)) {
  out[k] = { p50: round(percentile(xs, 50), 3), p90: round(percentile(xs, 90), 3) };
  process.stderr.write(`${k.padEnd(16)} p50 ${out[k].p50.toFixed(3)} ms  p90 ${out[k].p90.toFixed(3)} ms\n`);
}
console.log(JSON.stringify({ workload: "latency-parts", driver: "postgres", flushOff, samples, parts: out }));
process.exit(0);
