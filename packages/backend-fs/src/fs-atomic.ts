import { promises as fsp } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { isErrno, translateFsError, withFsErrors } from "./fs-errors.js";

/** `fsync`: every published file and its directory entry reach the disk before a write returns. `none`: leave it to the OS (tests, benchmarks). */
export type Durability = "fsync" | "none";

let tmpCounter = 0;
const tmpTag = `${process.pid}-${randomBytes(3).toString("hex")}`;

/**
 * The store's only way to write: crash-safe publication of whole files.
 *
 * A file is written completely to `tmp/` (and fsynced), then published under its final name with `link` (exclusive:
 * fails when the name is taken, so nobody is ever overwritten) or `rename` (atomic replace). A reader therefore sees
 * either no file or the whole file, never a half-written one. Directories are fsynced after an entry is added, so
 * the entry survives a crash too.
 */
export class AtomicFs {
  private readonly knownDirs = new Set<string>();

  constructor(private readonly tmpDir: string, readonly durability: Durability) {}

  /** True when writes are fsynced. */
  get fsync(): boolean {
    return this.durability === "fsync";
  }

  /** Creates `dir` and any missing parents, fsyncing each parent that gained an entry. Cached per process. */
  async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const first = await withFsErrors("creating directory", dir, () => fsp.mkdir(dir, { recursive: true }));
    if (first !== undefined && this.fsync) {
      // Every directory from the parent of the first created one down to dir's parent gained an entry.
      const chain: string[] = [];
      for (let d = dir; d !== dirname(first); d = dirname(d)) chain.push(dirname(d));
      await Promise.all(chain.map((d) => this.fsyncDir(d)));
    }
    this.knownDirs.add(dir);
  }

  /** Forgets cached directories (after something may have removed them). */
  forgetDirs(): void {
    this.knownDirs.clear();
  }

  /** Makes a directory's entries durable (no-op with durability "none"). */
  async fsyncDir(dir: string): Promise<void> {
    if (!this.fsync) return;
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(dir, "r");
      await fh.sync();
    } catch (err) {
      if (!isErrno(err, "ENOENT", "EISDIR", "EINVAL")) throw err;
    } finally {
      await fh?.close();
    }
  }

  /** Writes `data` to a new temp file (fsynced) and returns its path. */
  async writeTemp(data: string): Promise<string> {
    const path = join(this.tmpDir, `${tmpTag}-${++tmpCounter}.tmp`);
    await withFsErrors("writing temp file", path, async () => {
      const fh = await fsp.open(path, "wx");
      try {
        await fh.writeFile(data, "utf8");
        if (this.fsync) await fh.sync();
      } finally {
        await fh.close();
      }
    });
    return path;
  }

  /** Publishes a complete temp file under `final` unless that name exists. True when published. Creates missing directories. */
  async publish(tmp: string, final: string): Promise<boolean> {
    const dir = dirname(final);
    await this.ensureDir(dir);
    try {
      await fsp.link(tmp, final);
    } catch (err) {
      if (isErrno(err, "EEXIST")) return false;
      if (isErrno(err, "ENOENT")) {
        // The directory vanished behind our cache (or the temp file did): recreate and try once more.
        this.knownDirs.delete(dir);
        await this.ensureDir(dir);
        try {
          await fsp.link(tmp, final);
        } catch (again) {
          if (isErrno(again, "EEXIST")) return false;
          throw await this.translated(again, final);
        }
      } else {
        throw await this.translated(err, final);
      }
    }
    await this.fsyncDir(dir);
    return true;
  }

  /** Removes a temp file; missing is fine. */
  async discard(tmp: string): Promise<void> {
    await fsp.unlink(tmp).catch(() => undefined);
  }

  /** Creates `final` with `data` unless it exists. True when created. */
  async createExclusive(final: string, data: string): Promise<boolean> {
    const tmp = await this.writeTemp(data);
    try {
      return await this.publish(tmp, final);
    } finally {
      await this.discard(tmp);
    }
  }

  /** Atomically replaces (or creates) `final` with `data`. */
  async replace(final: string, data: string): Promise<void> {
    const tmp = await this.writeTemp(data);
    try {
      await this.ensureDir(dirname(final));
      await withFsErrors("replacing", final, () => fsp.rename(tmp, final));
      await this.fsyncDir(dirname(final));
    } finally {
      await this.discard(tmp);
    }
  }

  /** Creates an empty marker file unless it exists. True when created; durable when `durable` and fsync is on. */
  async touch(path: string, durable: boolean): Promise<boolean> {
    const dir = dirname(path);
    await this.ensureDir(dir);
    const created = await this.createMarker(path, () => fsp.writeFile(path, "", { flag: "wx" }), dir);
    if (created && durable) await this.fsyncDir(dir);
    return created;
  }

  /** Creates a symlink `path` → `target` unless `path` exists (a symlink's target is written atomically with it). True when created. */
  async symlink(path: string, target: string, durable: boolean): Promise<boolean> {
    const dir = dirname(path);
    await this.ensureDir(dir);
    const created = await this.createMarker(path, () => fsp.symlink(target, path), dir);
    if (created && durable) await this.fsyncDir(dir);
    return created;
  }

  private async createMarker(path: string, create: () => Promise<void>, dir: string): Promise<boolean> {
    try {
      await create();
      return true;
    } catch (err) {
      if (isErrno(err, "EEXIST")) return false;
      if (!isErrno(err, "ENOENT")) throw await this.translated(err, path);
      this.knownDirs.delete(dir);
      await this.ensureDir(dir);
      try {
        await create();
        return true;
      } catch (again) {
        if (isErrno(again, "EEXIST")) return false;
        throw await this.translated(again, path);
      }
    }
  }

  private async translated(err: unknown, path: string): Promise<unknown> {
    return translateFsError(err, "publishing", path);
  }
}

/** Reads a text file; null when it does not exist. */
export async function readTextOrNull(path: string): Promise<string | null> {
  try {
    return await fsp.readFile(path, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return null;
    throw err;
  }
}

/** Lists a directory; [] when it does not exist. */
export async function readDirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return [];
    throw err;
  }
}

/** Reads a symlink's target; null when it does not exist. */
export async function readLinkOrNull(path: string): Promise<string | null> {
  try {
    return await fsp.readlink(path);
  } catch (err) {
    if (isErrno(err, "ENOENT", "EINVAL")) return null;
    throw err;
  }
}

/** Removes a file; missing is fine. */
export async function removeIfExists(path: string): Promise<void> {
  try {
    await fsp.unlink(path);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
}

/** Age in ms of a file or symlink itself (by mtime), or null when missing. */
export async function ageMs(path: string): Promise<number | null> {
  try {
    const st = await fsp.lstat(path);
    return Date.now() - st.mtimeMs;
  } catch (err) {
    if (isErrno(err, "ENOENT")) return null;
    throw err;
  }
}
