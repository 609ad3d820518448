/** JSON-lines output: one line per measurement on stdout (and collected for the summary); progress on stderr. */
import { appendFileSync } from "node:fs";
import { round } from "./stats.js";
import type { DriverName } from "./drivers.js";

export interface Measurement {
  workload: string;
  driver: DriverName | string;
  params: Record<string, unknown>;
  runs: number;
  median: number;
  unit: string;
  min: number;
  max: number;
  peakRssBytes: number;
  [extra: string]: unknown;
}

export interface BenchContext {
  quick: boolean;
  drivers: DriverName[];
  /** Repetitions: `fast` measurements (well under a second each) get more. */
  runs(fast?: boolean): number;
  /** Milliseconds a throughput measurement lasts. */
  windowMs: number;
  /** Where JSON lines are also appended (besides stdout). */
  outFile?: string;
}

export const collected: Measurement[] = [];

export function emit(ctx: BenchContext, m: Measurement): void {
  const line: Measurement = { ...m, median: round(m.median), min: round(m.min), max: round(m.max) };
  for (const [k, v] of Object.entries(line))
    if (typeof v === "number" && !Number.isInteger(v)) (line as Record<string, unknown>)[k] = round(v);
  collected.push(line);
  const text = JSON.stringify(line);
  process.stdout.write(`${text}\n`);
  if (ctx.outFile) appendFileSync(ctx.outFile, `${text}\n`);
}

/** Records that a driver failed a workload: an error line instead of a number. */
export function emitError(
  ctx: BenchContext,
  workload: string,
  driver: string,
  params: Record<string, unknown>,
  err: unknown,
): void {
  const e = err instanceof Error ? err : new Error(String(err));
  const line = { workload, driver, params, error: `${e.name}: ${e.message.split("\n")[0]}` };
  collected.push(line as unknown as Measurement);
  const text = JSON.stringify(line);
  process.stdout.write(`${text}\n`);
  if (ctx.outFile) appendFileSync(ctx.outFile, `${text}\n`);
  progress(`  ERROR ${workload} ${driver} ${JSON.stringify(params)}: ${e.stack ?? e.message}`);
}

export function progress(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}
