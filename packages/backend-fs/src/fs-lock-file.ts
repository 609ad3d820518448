import { mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { KeyedMutex } from "./fs-keyed-mutex.js";

/** A lock file older than this is taken to belong to a process that died holding it, and is broken. */
export const STALE_LOCK_MS = 10_000;

/**
 * Takes the lock file `file` (created exclusively, holding the owner's pid and time), waiting while another process
 * holds it; one left by a process that died is broken after STALE_LOCK_MS. Returns its release.
 */
async function takeLockFile(file: string): Promise<() => Promise<void>> {
  await mkdir(dirname(file), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(JSON.stringify({ pid: process.pid, atMs: Date.now() }));
      await handle.close();
      return () => unlink(file).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const age = await stat(file).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_LOCK_MS) {
      const holder = await readFile(file, "utf8").catch(() => "");
      // Break it only if it is still the stale one read above (another breaker may have replaced it meanwhile).
      if ((await readFile(file, "utf8").catch(() => null)) === holder) await unlink(file).catch(() => undefined);
      continue;
    }
    await new Promise((r) => setTimeout(r, Math.min(20, 1 + attempt)));
  }
}

/**
 * Lock files of one driver: `run(file, fn)` runs `fn` holding `file` against every process, and against this
 * process's other callers without polling the file (an in-process mutex on the same key).
 */
export class LockFiles {
  private readonly mutex = new KeyedMutex();

  run<T>(file: string, fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(file, async () => {
      const release = await takeLockFile(file);
      try {
        return await fn();
      } finally {
        await release();
      }
    });
  }
}
