import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Cursor } from "@cairn/backend-interface";
import { readDirOrEmpty, readTextOrNull, removeIfExists, type AtomicFs } from "./fs-atomic.js";
import type { CorruptionReporter } from "./fs-corruption.js";
import type { FsLayout } from "./fs-layout.js";

const SEQ_DIGITS = 12;
/** Versions kept below the newest: a writer would have to stall across this many later writes to be misjudged. */
const KEEP = 64;

/**
 * Compare-and-set cursors on the filesystem without locks. A cursor is a directory of numbered, write-once versions
 * (`cursors/<sha256(key)>/<seq>.json`); its value is the highest version's. A compare-and-set reads the highest
 * version and, when its value is the expected one, creates the next number exclusively (link), so of concurrent
 * writers that read the same version exactly one creates the next. The newest KEEP + 1 versions are kept; a writer
 * that finds a version more than KEEP above its own read a version since pruned, so it withdraws its file and
 * reports failure (a writer is misjudged only if KEEP writes land between its create and its check).
 */
export class FsCursors {
  constructor(
    private readonly layout: FsLayout,
    private readonly atomic: AtomicFs,
    private readonly reporter: CorruptionReporter,
  ) {}

  async read(keys: readonly string[]): Promise<Cursor[]> {
    const out: Cursor[] = [];
    for (const key of keys) {
      const head = await this.head(this.layout.cursorDir(hashKey(key)));
      if (head?.cursor) out.push(head.cursor);
    }
    return out;
  }

  async compareAndSet(expected: string | null, next: Cursor): Promise<boolean> {
    const dir = this.layout.cursorDir(hashKey(next.key));
    const head = await this.head(dir);
    if ((head?.cursor?.value ?? null) !== expected) return false;
    const seq = (head?.seq ?? 0) + 1;
    const file = join(dir, versionName(seq));
    if (!(await this.atomic.createExclusive(file, `${JSON.stringify(next)}\n`))) return false;
    // Pruning removes a number only once a version more than KEEP above it exists: finding one means this number had
    // been taken and pruned before, so this write read a stale version and must not count.
    const versions = await this.versions(dir);
    if ((versions.at(-1) ?? seq) > seq + KEEP) {
      await removeIfExists(file);
      return false;
    }
    for (const n of versions) if (n < seq - KEEP) await removeIfExists(join(dir, versionName(n)));
    return true;
  }

  /** Version numbers present in `dir`, ascending. */
  private async versions(dir: string): Promise<number[]> {
    return (await readDirOrEmpty(dir))
      .filter((n) => /^\d+\.json$/.test(n))
      .map((n) => Number(n.slice(0, -5)))
      .sort((a, b) => a - b);
  }

  /** The highest version and its record (null record when damaged: reported, treated as no value). */
  private async head(dir: string): Promise<{ seq: number; cursor: Cursor | null } | null> {
    for (let round = 0; round < 5; round++) {
      const seq = (await this.versions(dir)).at(-1);
      if (seq === undefined) return null;
      const path = join(dir, versionName(seq));
      const text = await readTextOrNull(path);
      if (text === null) continue; // pruned between listing and reading: list again
      try {
        const c = JSON.parse(text) as Cursor;
        if (typeof c.key === "string" && typeof c.value === "string" && typeof c.atUs === "number")
          return { seq, cursor: c };
      } catch {
        // reported below
      }
      this.reporter.report(path, "damaged cursor (not a {key, value, atUs} record)", {});
      return { seq, cursor: null };
    }
    return null;
  }
}

function versionName(seq: number): string {
  return `${String(seq).padStart(SEQ_DIGITS, "0")}.json`;
}

function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}
