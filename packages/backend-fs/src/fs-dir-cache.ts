import fs from "node:fs";
import { isErrno } from "./fs-errors.js";

/** A listing is reused only when the directory was last changed this long before it was read (coarse mtime clocks). */
const SETTLED_NS = 1_000_000_000n;
/** Directories remembered before the cache starts over. */
const MAX_DIRS = 4096;

/**
 * Directory listings validated by the directory's mtime, so walking a large, settled index (old days of the
 * created-at index) costs one stat per directory instead of a readdir. As in git's "racy" check, a listing is only
 * reused when it was read well after the directory's last change: a change after the read then has a later mtime.
 */
export class DirListingCache {
  private readonly cache = new Map<string, { mtimeNs: bigint; names: string[] }>();
  private readonly derived = new WeakMap<string[], unknown>();

  /** The names in `dir` ([] when it does not exist). */
  list(dir: string): string[] {
    const st = fs.statSync(dir, { bigint: true, throwIfNoEntry: false });
    if (!st) {
      this.cache.delete(dir);
      return [];
    }
    const hit = this.cache.get(dir);
    if (hit && hit.mtimeNs === st.mtimeNs) return hit.names;
    const readAtNs = BigInt(Date.now()) * 1_000_000n;
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (err) {
      if (isErrno(err, "ENOENT", "ENOTDIR")) return [];
      throw err;
    }
    if (readAtNs - st.mtimeNs > SETTLED_NS) {
      if (this.cache.size >= MAX_DIRS) this.cache.clear();
      this.cache.set(dir, { mtimeNs: st.mtimeNs, names });
    } else {
      this.cache.delete(dir);
    }
    return names;
  }

  /** `derive(names)` for a listing, computed once per cached listing (parsing and sorting entry names). */
  listDerived<T>(dir: string, derive: (names: string[]) => T): T {
    const names = this.list(dir);
    const known = this.derived.get(names) as T | undefined;
    if (known !== undefined) return known;
    const value = derive(names);
    this.derived.set(names, value);
    return value;
  }
}
