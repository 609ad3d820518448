/**
 * Counts fsync calls made through node:fs (the filesystem driver's durability cost). Must be installed before the
 * driver modules are loaded (they capture fs.fsync at import time), so run.ts imports this first and the workload
 * modules afterwards, dynamically.
 */
import fs from "node:fs";

let count = 0;

export function installFsyncCounter(): void {
  const g = globalThis as { __cairnBenchFsync?: boolean };
  if (g.__cairnBenchFsync) return;
  g.__cairnBenchFsync = true;
  const f = fs.fsync;
  const fd = fs.fdatasync;
  const fsy = fs.fsyncSync;
  const fdsy = fs.fdatasyncSync;
  fs.fsync = ((...args: Parameters<typeof fs.fsync>) => {
    count++;
    return f(...args);
  }) as typeof fs.fsync;
  fs.fdatasync = ((...args: Parameters<typeof fs.fdatasync>) => {
    count++;
    return fd(...args);
  }) as typeof fs.fdatasync;
  fs.fsyncSync = ((...args: Parameters<typeof fs.fsyncSync>) => {
    count++;
    return fsy(...args);
  }) as typeof fs.fsyncSync;
  fs.fdatasyncSync = ((...args: Parameters<typeof fs.fdatasyncSync>) => {
    count++;
    return fdsy(...args);
  }) as typeof fs.fdatasyncSync;
}

/** fsync + fdatasync calls so far in this process. */
export function fsyncCount(): number {
  return count;
}
