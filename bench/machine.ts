/** Machine probes recorded with every run: the cost floors the drivers sit on (fsync of a small file, a Postgres commit). */
import { closeSync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { BENCH_TMP, DATABASE_URL } from "./drivers.js";
import { percentile, round } from "./stats.js";

/** p50/p90 ms of write(200 bytes) + fsync of a new file in the benchmark directory (the filesystem driver's unit of durability). */
export function fsyncProbe(samples = 50): { p50Ms: number; p90Ms: number } {
  mkdirSync(BENCH_TMP, { recursive: true });
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const path = join(BENCH_TMP, `fsync-probe-${process.pid}-${i}`);
    const t = performance.now();
    const fd = openSync(path, "wx");
    writeSync(fd, "x".repeat(200));
    fsyncSync(fd);
    closeSync(fd);
    xs.push(performance.now() - t);
    rmSync(path, { force: true });
  }
  return { p50Ms: round(percentile(xs, 50)), p90Ms: round(percentile(xs, 90)) };
}

/** p50/p90 ms of a one-row INSERT autocommit, with synchronous_commit on and off, and of SELECT 1 (a round trip). */
export async function pgCommitProbe(samples = 50): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  const table = `bench_commit_probe_${process.pid}`;
  try {
    await c.query(`CREATE TABLE ${table} (id int)`);
    const out: Record<string, number> = {};
    for (const mode of ["on", "off"]) {
      await c.query(`SET synchronous_commit = ${mode}`);
      const xs: number[] = [];
      for (let i = 0; i < samples; i++) {
        const t = performance.now();
        await c.query(`INSERT INTO ${table} VALUES ($1)`, [i]);
        xs.push(performance.now() - t);
      }
      out[`commitSync${mode === "on" ? "On" : "Off"}P50Ms`] = round(percentile(xs, 50));
      out[`commitSync${mode === "on" ? "On" : "Off"}P90Ms`] = round(percentile(xs, 90));
    }
    const rt: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      await c.query("SELECT 1");
      rt.push(performance.now() - t);
    }
    out.roundTripP50Ms = round(percentile(rt, 50));
    return out;
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await c.end();
  }
}
