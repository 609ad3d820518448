import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import type { Mark } from "@cairn/backend-interface";
import { readDirOrEmpty, readTextOrNull, type AtomicFs } from "./fs-atomic.js";
import type { CorruptionReporter } from "./fs-corruption.js";
import type { FsLayout } from "./fs-layout.js";

/**
 * Write-once marks on the filesystem: one file per key (`marks/<sha256(key)>.json`), created exclusively (link), so
 * of any number of processes writing one key exactly one succeeds, and everyone reads the winner's file.
 */
export class FsMarks {
  constructor(
    private readonly layout: FsLayout,
    private readonly atomic: AtomicFs,
    private readonly reporter: CorruptionReporter,
  ) {}

  async putIfAbsent(mark: Mark): Promise<Mark> {
    const path = this.layout.markFile(hashKey(mark.key));
    if (await this.atomic.createExclusive(path, `${JSON.stringify(mark)}\n`)) return mark;
    return (await this.read(path)) ?? mark;
  }

  /** Deletes marks under `prefix` older than `beforeUs`. Reads every mark: the directory holds few (leases are pruned). */
  async deleteBefore(prefix: string, beforeUs: number): Promise<number> {
    let n = 0;
    for (const name of await readDirOrEmpty(this.layout.marksDir())) {
      if (!name.endsWith(".json")) continue;
      const path = this.layout.markFile(name.slice(0, -5));
      const mark = await this.read(path);
      if (mark && mark.key.startsWith(prefix) && mark.atUs < beforeUs) {
        await rm(path, { force: true });
        n++;
      }
    }
    return n;
  }

  private async read(path: string): Promise<Mark | null> {
    const text = await readTextOrNull(path);
    if (text === null) return null;
    try {
      const m = JSON.parse(text) as Mark;
      if (typeof m.key === "string" && typeof m.holder === "string" && typeof m.atUs === "number") return m;
    } catch {
      // reported below
    }
    this.reporter.report(path, "damaged mark (not a {key, holder, atUs} record)", {});
    return null;
  }
}

function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}
