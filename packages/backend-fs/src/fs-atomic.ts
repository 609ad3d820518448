import fs from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { isErrno, translateFsError } from "./fs-errors.js";

/** `fsync`: every published file and its directory entry reach the disk before a write returns. `none`: leave it to the OS (tests, benchmarks). */
export type Durability = "fsync" | "none";

let tmpCounter = 0;
const tmpTag = `${process.pid}-${randomBytes(3).toString("hex")}`;
const fsyncAsync = promisify(fs.fsync);
/** Directories remembered as existing before the memory starts over (one per run written to). */
const MAX_KNOWN_DIRS = 50_000;

/**
 * The store's only way to write: crash-safe publication of whole files.
 *
 * A file is written completely to `tmp/` (and fsynced), then published under its final name with `link` (exclusive:
 * fails when the name is taken, so nobody is ever overwritten) or `rename` (atomic replace). A reader therefore sees
 * either no file or the whole file, never a half-written one. Directories are fsynced after an entry is added, so
 * the entry survives a crash too.
 *
 * Metadata calls and small reads and writes are synchronous: on a local filesystem they take microseconds, far less
 * than a round trip through libuv's thread pool, and they dominate the cost of every call. Only fsync, which takes
 * milliseconds, is asynchronous, so other calls proceed while the disk flushes.
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
    let first: string | undefined;
    try {
      first = fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw translateFsError(err, "creating directory", dir);
    }
    if (first !== undefined && this.fsync) {
      // Every directory from the parent of the first created one down to dir's parent gained an entry.
      const chain: string[] = [];
      for (let d = dir; d !== dirname(first); d = dirname(d)) chain.push(dirname(d));
      await Promise.all(chain.map((d) => this.fsyncDir(d)));
    }
    if (this.knownDirs.size >= MAX_KNOWN_DIRS) this.knownDirs.clear();
    this.knownDirs.add(dir);
  }

  /** Removes `dir` if it is empty (a losing submission's run directory); anything else is left alone. */
  removeEmptyDir(dir: string): void {
    this.knownDirs.delete(dir);
    try {
      fs.rmdirSync(dir);
    } catch (err) {
      if (!isErrno(err, "ENOENT", "ENOTEMPTY", "EEXIST")) throw err;
    }
  }

  /** Makes a directory's entries durable (no-op with durability "none"). */
  async fsyncDir(dir: string): Promise<void> {
    if (!this.fsync) return;
    let fd: number | undefined;
    try {
      fd = fs.openSync(dir, "r");
      await fsyncAsync(fd);
    } catch (err) {
      if (!isErrno(err, "ENOENT", "EISDIR", "EINVAL")) throw translateFsError(err, "syncing", dir);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /** Writes `data` to a new temp file (fsynced) and returns its path. */
  async writeTemp(data: string): Promise<string> {
    const path = join(this.tmpDir, `${tmpTag}-${++tmpCounter}.tmp`);
    try {
      if (!this.fsync) {
        fs.writeFileSync(path, data, { flag: "wx" });
        return path;
      }
      const fd = fs.openSync(path, "wx");
      try {
        fs.writeFileSync(fd, data);
        await fsyncAsync(fd);
      } finally {
        fs.closeSync(fd);
      }
      return path;
    } catch (err) {
      throw translateFsError(err, "writing temp file", path);
    }
  }

  /** Publishes a complete file under `final` unless that name exists. True when published. Creates missing directories. */
  async publish(tmp: string, final: string): Promise<boolean> {
    const dir = dirname(final);
    await this.ensureDir(dir);
    if (!(await this.create(final, dir, () => fs.linkSync(tmp, final)))) return false;
    await this.fsyncDir(dir);
    return true;
  }

  /** Removes a temp file; missing is fine. */
  async discard(tmp: string): Promise<void> {
    removeIfExistsSync(tmp);
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
      try {
        fs.renameSync(tmp, final);
      } catch (err) {
        throw translateFsError(err, "replacing", final);
      }
      await this.fsyncDir(dirname(final));
    } finally {
      await this.discard(tmp);
    }
  }

  /** Creates an empty marker file unless it exists. True when created; then durable when `durable` and fsync is on. */
  async touch(path: string, durable: boolean): Promise<boolean> {
    const dir = dirname(path);
    await this.ensureDir(dir);
    const created = await this.create(path, dir, () => fs.closeSync(fs.openSync(path, "wx")));
    if (created && durable) await this.fsyncDir(dir);
    return created;
  }

  /** Creates a symlink `path` → `target` unless `path` exists (a symlink's target is written atomically with it). True when created. */
  async symlink(path: string, target: string, durable: boolean): Promise<boolean> {
    const dir = dirname(path);
    await this.ensureDir(dir);
    const created = await this.create(path, dir, () => fs.symlinkSync(target, path));
    if (created && durable) await this.fsyncDir(dir);
    return created;
  }

  /** Runs an exclusive create; false on EEXIST; recreates the directory once if it vanished behind the cache. */
  private async create(path: string, dir: string, make: () => void): Promise<boolean> {
    for (let round = 0; ; round++) {
      try {
        make();
        return true;
      } catch (err) {
        if (isErrno(err, "EEXIST")) return false;
        if (!isErrno(err, "ENOENT") || round > 0) throw translateFsError(err, "publishing", path);
        this.knownDirs.delete(dir);
        await this.ensureDir(dir);
      }
    }
  }
}

/** Reads a text file; null when it does not exist. */
export async function readTextOrNull(path: string): Promise<string | null> {
  return readTextOrNullSync(path);
}

/** Synchronous readTextOrNull (a missing file costs one stat and no exception). */
export function readTextOrNullSync(path: string): string | null {
  if (!fs.statSync(path, { throwIfNoEntry: false })) return null;
  try {
    return fs.readFileSync(path, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return null;
    throw err;
  }
}

/** Reads a file just seen in a directory listing (no existence check first); null if it vanished. */
export function readListedFile(path: string): string | null {
  try {
    return fs.readFileSync(path, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT")) return null;
    throw err;
  }
}

/** Lists a directory; [] when it does not exist. */
export async function readDirOrEmpty(dir: string): Promise<string[]> {
  return readDirOrEmptySync(dir);
}

/** Synchronous readDirOrEmpty. */
export function readDirOrEmptySync(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return [];
    throw err;
  }
}

/** Reads a symlink's target; null when it does not exist. */
export async function readLinkOrNull(path: string): Promise<string | null> {
  if (!fs.lstatSync(path, { throwIfNoEntry: false })) return null;
  try {
    return fs.readlinkSync(path);
  } catch (err) {
    if (isErrno(err, "ENOENT", "EINVAL")) return null;
    throw err;
  }
}

/** Removes a file; missing is fine. */
export async function removeIfExists(path: string): Promise<void> {
  removeIfExistsSync(path);
}

function removeIfExistsSync(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
}

/** Age in ms of a file or symlink itself (by mtime), or null when missing. */
export async function ageMs(path: string): Promise<number | null> {
  const st = fs.lstatSync(path, { throwIfNoEntry: false });
  return st ? Date.now() - st.mtimeMs : null;
}
