import fs, { promises as fsp } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { isErrno, translateFsError } from "./fs-errors.js";

/** `fsync`: every published file and its directory entry reach the disk before a write returns. `none`: leave it to the OS (tests, benchmarks). */
export type Durability = "fsync" | "none";

let tmpCounter = 0;
const tmpTag = `${process.pid}-${randomBytes(3).toString("hex")}`;
/** Directories remembered as existing before the memory starts over (one per run written to). */
const MAX_KNOWN_DIRS = 50_000;
/** Where the write path's metadata calls run: on the main thread (`sync`) or on libuv's thread pool (`threadpool`). */
export type MetadataCalls = "sync" | "threadpool";

/** A complete file in `tmp/`, not yet published. In fsync mode its descriptor stays open until its data is flushed. */
export interface TempFile {
  readonly path: string;
  fd: number | null;
  synced?: Promise<void>;
}

/** Flush state of one directory: the fsync in flight, and the one queued behind it that new entries join. */
interface DirFlush {
  inFlight: Promise<void> | null;
  queued: Promise<void> | null;
}

/**
 * The store's only way to write: crash-safe publication of whole files.
 *
 * A file is written completely to `tmp/`, then published under its final name with `link` (exclusive: fails when the
 * name is taken, so nobody is ever overwritten) or `rename` (atomic replace). A reader therefore sees either no file or
 * the whole file, never a half-written one. With durability "fsync" the call returns only once the file's data and
 * its new directory entry are on disk (both flushes run at once after the link); a crash before that leaves either no
 * entry or an entry whose content is not valid JSON (reported as damaged), never a partial file that parses.
 *
 * Directory fsyncs are group-committed: concurrent requests for one directory share one fsync (a request made while
 * a flush is running joins the next one, which starts when it ends and covers every entry created before it).
 *
 * Metadata calls of the write path (open, link, symlink, mkdir, unlink) are synchronous by default: a thread-pool
 * round trip costs more than the call on a quick disk (measured: 3x fewer runs/s on tmpfs). With `metadataCalls:
 * "threadpool"` they run on libuv's pool, so on a disk where one create waits milliseconds for the journal, concurrent
 * calls overlap. fsync (and, in fsync mode, the temp file's open/write/close) always runs on the pool. Reads stay
 * synchronous (page cache, microseconds).
 */
export class AtomicFs {
  private readonly knownDirs = new Set<string>();
  private readonly flushes = new Map<string, DirFlush>();

  private readonly syncMeta: boolean;

  constructor(
    private readonly tmpDir: string,
    readonly durability: Durability,
    metadataCalls: MetadataCalls = "sync",
  ) {
    this.syncMeta = metadataCalls === "sync";
  }

  /** True when writes are fsynced. */
  get fsync(): boolean {
    return this.durability === "fsync";
  }

  /** Creates `dir` and any missing parents, fsyncing each parent that gained an entry. Cached per process. */
  async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    let first: string | undefined;
    try {
      if (this.knownDirs.has(dirname(dir))) {
        // The common case (a new run's directory): one mkdir, no recursive probing.
        try {
          if (this.syncMeta) fs.mkdirSync(dir);
          else await fsp.mkdir(dir);
          first = dir;
        } catch (err) {
          if (isErrno(err, "EEXIST")) first = undefined;
          else if (isErrno(err, "ENOENT"))
            first = this.syncMeta ? fs.mkdirSync(dir, { recursive: true }) : await fsp.mkdir(dir, { recursive: true });
          else throw err;
        }
      } else {
        first = this.syncMeta ? fs.mkdirSync(dir, { recursive: true }) : await fsp.mkdir(dir, { recursive: true });
      }
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
    this.knownDirs.add(dirname(dir)); // so its next sibling (the next run's directory) takes a single mkdir
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

  /** Makes a directory's entries created so far durable (no-op with durability "none"). Concurrent calls share fsyncs. */
  fsyncDir(dir: string): Promise<void> {
    if (!this.fsync) return Promise.resolve();
    let st = this.flushes.get(dir);
    if (!st) {
      st = { inFlight: null, queued: null };
      this.flushes.set(dir, st);
    }
    if (st.queued) return st.queued; // not started yet: it will cover our entry
    if (!st.inFlight) return this.startFlush(dir, st);
    // A flush is running and may have started before our entry was made: join the next one.
    const state = st;
    const queued = st.inFlight
      .catch(() => undefined)
      .then(() => {
        state.queued = null;
        return this.startFlush(dir, state);
      });
    st.queued = queued;
    return queued;
  }

  private startFlush(dir: string, st: DirFlush): Promise<void> {
    const p: Promise<void> = fsyncPath(dir).finally(() => {
      if (st.inFlight === p) st.inFlight = null;
      if (!st.inFlight && !st.queued && this.flushes.get(dir) === st) this.flushes.delete(dir);
    });
    st.inFlight = p;
    return p;
  }

  /** Writes `data` to a new temp file. In fsync mode its data is flushed by `syncTemp` or at publication. */
  async writeTemp(data: string): Promise<TempFile> {
    const path = join(this.tmpDir, `${tmpTag}-${++tmpCounter}.tmp`);
    try {
      if (!this.fsync) {
        if (this.syncMeta) fs.writeFileSync(path, data, { flag: "wx" });
        else await fsp.writeFile(path, data, { flag: "wx" });
        return { path, fd: null };
      }
      const fd = await openFd(path, "wx");
      try {
        await writeAll(fd, data);
      } catch (err) {
        await closeFd(fd).catch(() => undefined);
        throw err;
      }
      return { path, fd };
    } catch (err) {
      throw translateFsError(err, "writing temp file", path);
    }
  }

  /** Flushes a temp file's data (once; later calls share the first). */
  syncTemp(tmp: TempFile): Promise<void> {
    if (tmp.fd === null) return Promise.resolve();
    tmp.synced ??= fsyncFd(tmp.fd).catch((err: unknown) => {
      throw translateFsError(err, "syncing", tmp.path);
    });
    return tmp.synced;
  }

  /**
   * Publishes a complete file (a temp file, or an already durable file such as an idempotency claim) under `final`
   * unless that name exists. True when published. In fsync mode the file's data and the new entry are flushed (at
   * once) before this returns. Creates missing directories.
   */
  async publish(src: TempFile | string, final: string): Promise<boolean> {
    const dir = dirname(final);
    await this.ensureDir(dir);
    const from = typeof src === "string" ? src : src.path;
    if (
      !(await this.create(
        final,
        dir,
        () => fsp.link(from, final),
        () => fs.linkSync(from, final),
      ))
    )
      return false;
    if (this.fsync) await Promise.all([typeof src === "string" ? undefined : this.syncTemp(src), this.fsyncDir(dir)]);
    return true;
  }

  /** Closes and removes a temp file; missing is fine. */
  async discard(tmp: TempFile): Promise<void> {
    if (tmp.fd !== null) {
      const fd = tmp.fd;
      tmp.fd = null;
      await (tmp.synced ?? Promise.resolve()).catch(() => undefined);
      await closeFd(fd).catch(() => undefined);
    }
    if (this.syncMeta) removeIfExistsSync(tmp.path);
    else
      await fsp.unlink(tmp.path).catch((err: unknown) => {
        if (!isErrno(err, "ENOENT")) throw err;
      });
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
      await this.syncTemp(tmp); // the data must be on disk before the name can point at it
      try {
        await fsp.rename(tmp.path, final);
      } catch (err) {
        throw translateFsError(err, "replacing", final);
      }
      await this.fsyncDir(dirname(final));
    } finally {
      await this.discard(tmp);
    }
  }

  /**
   * Creates a symlink `path` → `target` unless `path` exists (a symlink's target is written atomically with it: no
   * data to flush, one metadata call). True when created; then durable when `durable` and fsync is on.
   */
  async symlink(path: string, target: string, durable: boolean): Promise<boolean> {
    const dir = dirname(path);
    await this.ensureDir(dir);
    const created = await this.create(
      path,
      dir,
      () => fsp.symlink(target, path),
      () => fs.symlinkSync(target, path),
    );
    if (created && durable) await this.fsyncDir(dir);
    return created;
  }

  /** Runs an exclusive create; false on EEXIST; recreates the directory once if it vanished behind the cache. */
  private async create(path: string, dir: string, make: () => Promise<void>, makeSync: () => void): Promise<boolean> {
    for (let round = 0; ; round++) {
      try {
        if (this.syncMeta) makeSync();
        else await make();
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

/** Opens a file or directory, fsyncs it and closes it; a vanished path is fine. */
async function fsyncPath(path: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = await openFd(path, "r");
    await fsyncFd(fd);
  } catch (err) {
    if (!isErrno(err, "ENOENT", "EISDIR", "EINVAL")) throw translateFsError(err, "syncing", path);
  } finally {
    if (fd !== undefined) await closeFd(fd).catch(() => undefined);
  }
}

// Callback-API wrappers on raw descriptors: node:fs's fsync is what the benchmark counts (FileHandle.sync is not).
function openFd(path: string, flags: string): Promise<number> {
  return new Promise((res, rej) => fs.open(path, flags, (err, fd) => (err ? rej(err) : res(fd))));
}
function closeFd(fd: number): Promise<void> {
  return new Promise((res, rej) => fs.close(fd, (err) => (err ? rej(err) : res())));
}
function fsyncFd(fd: number): Promise<void> {
  return new Promise((res, rej) => fs.fsync(fd, (err) => (err ? rej(err) : res())));
}
async function writeAll(fd: number, data: string): Promise<void> {
  const buf = Buffer.from(data, "utf8");
  for (let off = 0; off < buf.length;) {
    off += await new Promise<number>((res, rej) =>
      fs.write(fd, buf, off, buf.length - off, null, (err, n) => (err ? rej(err) : res(n))),
    );
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
