import { join, resolve, sep } from "node:path";
import { InvalidArgumentError } from "@cairn/backend-interface";

/** Digits of a batch file's sequence number (`000000000042.json`). */
export const SEQ_WIDTH = 12;
/** Digits of a µs timestamp in index entry names (sorts lexicographically until the year 2286). */
const US_WIDTH = 16;
/** Separates the fields of an index entry name; never part of an identifier (letters, digits, `-`, `_`, `.`). */
export const NAME_SEPARATOR = "~";
/** Microseconds in one UTC day: the bucket size of the time-ordered indexes. */
const DAY_US = 86_400_000_000;

/** A run's address inside the store. */
export interface RunAddress {
  workflowSlug: string;
  runId: string;
}

/**
 * Every path of the filesystem store, built in one place.
 *
 * ```
 * cairn-store.json                              format marker (schema version)
 * tmp/                                          temp files, published by link/rename
 * runs/<slug>/<runId>/<seq>.json                one batch of events (a JSON array), never rewritten
 * run-index/<runId>                             symlink -> ../runs/<slug>/<runId>   (getRun by id, O(1))
 * live/<slug>~<runId>                           symlink marker of a non-terminal run
 * runs-by-created/<day>/<hh>/<mm-ss>/<createdUs>~<runId>~<slug>   symlink -> the run's directory, listRuns newest first
 * touched/<day>/<slug>~<runId>                  symlink -> the run's directory: it has events on that UTC day (analytics)
 * idempotency/<slug>/<sha256(key)>.json         the run's batch 0, claimed by exclusive link
 * workflows/<slug>.json, versions/<slug>/<versionFileName(versionId)>, outputs/
 * workers/<workerId>.json                       a worker's presence record, replaced by rename at each write
 * doorbell                                      empty file whose mtime writers bump after publishing (wake-ups)
 * feed/<bucket>/<slot>.json                     the global order: one slot per published batch, in commit order (FsFeed)
 * ```
 * Every path is checked to stay under the base directory.
 */
export class FsLayout {
  /** Absolute base directory of the store. */
  readonly root: string;

  constructor(baseDir: string) {
    this.root = resolve(baseDir);
  }

  /** Joins identifier segments under the root, refusing anything that could leave it. */
  private at(...parts: string[]): string {
    for (const part of parts) {
      if (
        part.length === 0 ||
        part === "." ||
        part === ".." ||
        part.includes("/") ||
        part.includes("\\") ||
        part.includes("\0")
      ) {
        throw new InvalidArgumentError(`Refusing unsafe path segment ${JSON.stringify(part)} in the filesystem store.`);
      }
    }
    const p = join(this.root, ...parts);
    if (!p.startsWith(this.root + sep)) throw new InvalidArgumentError(`Path ${p} escapes the store ${this.root}.`);
    return p;
  }

  /** A slot of the global event feed (see FsFeed), in buckets of 10,000 so no directory grows without bound. */
  feedSlotFile(slot: number): string {
    return this.at("feed", String(Math.floor(slot / 10_000)).padStart(8, "0"), formatSeq(slot));
  }

  /** The format marker file. */
  storeFile(): string {
    return this.at("cairn-store.json");
  }
  /** Directory of temp files (same filesystem as everything else, so link and rename work). */
  tmpDir(): string {
    return this.at("tmp");
  }
  /** Directory of all runs of a workflow. */
  workflowRunsDir(slug: string): string {
    return this.at("runs", slug);
  }
  /** Directory of one run. */
  runDir(a: RunAddress): string {
    return this.at("runs", a.workflowSlug, a.runId);
  }
  /** Directory of a run's batch files: the run's directory itself (one directory to create and flush per run). */
  eventsDir(a: RunAddress): string {
    return this.runDir(a);
  }
  /** One batch file of a run. */
  batchFile(a: RunAddress, seq: number): string {
    return this.at("runs", a.workflowSlug, a.runId, formatSeq(seq));
  }
  /** Directory of the run-id index. */
  runIndexDir(): string {
    return this.at("run-index");
  }
  /** The run-id index entry: a symlink whose target names the run's directory. */
  runIndexFile(runId: string): string {
    return this.at("run-index", runId);
  }
  /** Symlink target of a run-index entry (relative, so the store can be moved). */
  runIndexTarget(a: RunAddress): string {
    return `../runs/${a.workflowSlug}/${a.runId}`;
  }
  /** Directory of live-run markers. */
  liveDir(): string {
    return this.at("live");
  }
  /** The live marker of a run. */
  liveFile(a: RunAddress): string {
    return this.at("live", `${a.workflowSlug}${NAME_SEPARATOR}${a.runId}`);
  }
  /** A directory of the created-at index: day, hour and second buckets (`2026-01-31/13/05-59`). */
  createdDir(...buckets: string[]): string {
    return this.at("runs-by-created", ...buckets);
  }
  /** The created-at entry of a run. Second buckets keep each directory small, so the newest runs are found fast. */
  createdFile(a: RunAddress, createdAtUs: number): string {
    const iso = new Date(Math.floor(createdAtUs / 1000)).toISOString(); // 2026-01-31T13:05:59.123Z
    const name = `${String(createdAtUs).padStart(US_WIDTH, "0")}${NAME_SEPARATOR}${a.runId}${NAME_SEPARATOR}${a.workflowSlug}`;
    return this.at(
      "runs-by-created",
      iso.slice(0, 10),
      iso.slice(11, 13),
      `${iso.slice(14, 16)}-${iso.slice(17, 19)}`,
      name,
    );
  }
  /** Symlink target of a created-at entry: the run's directory (the entry's name is what readers use). */
  createdTarget(a: RunAddress): string {
    return `../../../../runs/${a.workflowSlug}/${a.runId}`;
  }
  /** Symlink target of a touched-day entry: the run's directory. */
  touchedTarget(a: RunAddress): string {
    return `../../runs/${a.workflowSlug}/${a.runId}`;
  }
  /** Root of the touched-day index. */
  touchedRoot(): string {
    return this.at("touched");
  }
  /** One day bucket of the touched-day index. */
  touchedBucket(day: string): string {
    return this.at("touched", day);
  }
  /** The entry saying a run has events on `day`. */
  touchedFile(day: string, a: RunAddress): string {
    return this.at("touched", day, `${a.workflowSlug}${NAME_SEPARATOR}${a.runId}`);
  }
  /** The idempotency claim of a key (its file name is the key's hash). */
  idempotencyFile(slug: string, keyHash: string): string {
    return this.at("idempotency", slug, `${keyHash}.json`);
  }
  /** Symlink target of a keyed run's live marker: its idempotency claim, which lets readers finish a half-done submit. */
  idempotencyTarget(slug: string, keyHash: string): string {
    return `../idempotency/${slug}/${keyHash}.json`;
  }
  /** Directory of workflow registrations. */
  workflowsDir(): string {
    return this.at("workflows");
  }
  /** One workflow registration. */
  workflowFile(slug: string): string {
    return this.at("workflows", `${slug}.json`);
  }
  /** Directory of a workflow's versions. */
  versionsDir(slug: string): string {
    return this.at("versions", slug);
  }
  /** One workflow version. */
  versionFile(slug: string, versionId: string): string {
    return this.at("versions", slug, versionFileName(versionId));
  }
  /** Directory of workers' presence records. */
  workersDir(): string {
    return this.at("workers");
  }
  /** One worker's presence record. */
  workerFile(workerId: string): string {
    return this.at("workers", `${workerId}.json`);
  }
  /** The wake-up doorbell (see FsDoorbell). */
  doorbellFile(): string {
    return this.at("doorbell");
  }
  /** Where step output files go. */
  outputsDir(): string {
    return this.at("outputs");
  }
  /** Directory of write-once marks. */
  marksDir(): string {
    return this.at("marks");
  }
  /** One mark, named by the hash of its key (keys may hold any character). */
  markFile(keyHash: string): string {
    return this.at("marks", `${keyHash}.json`);
  }
  /** Directory of one compare-and-set cursor's versions, named by the hash of its key (see FsCursors). */
  cursorDir(keyHash: string): string {
    return this.at("cursors", keyHash);
  }
}

/**
 * The file name of a version: `<versionId>.json`, with the one character a version id may hold beyond a run id's
 * (`:`, as in `sha256:<hex>`) percent-encoded, since Windows refuses it in names and macOS shows it as `/`.
 * Ids without `:` keep the name they always had; `%` is never part of an id, so the encoding is reversible.
 */
export function versionFileName(versionId: string): string {
  return `${versionId.replaceAll(":", "%3A")}.json`;
}

/** The version id a version file name stands for, or null for any other name. */
export function parseVersionFileName(name: string): string | null {
  if (!name.endsWith(".json") || name.length <= 5) return null;
  const id = name.slice(0, -5).replaceAll("%3A", ":");
  return id.includes("%") ? null : id;
}

/** `42` → `000000000042.json`. */
export function formatSeq(seq: number): string {
  return `${String(seq).padStart(SEQ_WIDTH, "0")}.json`;
}

/** The sequence number of a batch file name, or null for any other name. */
export function parseSeq(name: string): number | null {
  if (name.length !== SEQ_WIDTH + 5 || !name.endsWith(".json")) return null;
  const digits = name.slice(0, SEQ_WIDTH);
  return /^\d+$/.test(digits) ? Number(digits) : null;
}

/** The UTC day bucket name (`2026-01-31`) of a µs timestamp. */
export function dayBucket(us: number): string {
  return new Date(Math.floor(us / DAY_US) * 86_400_000).toISOString().slice(0, 10);
}

/** Parses `<slug>~<runId>` (live and touched entries). */
export function parseRunName(name: string): RunAddress | null {
  const parts = name.split(NAME_SEPARATOR);
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null;
  return { workflowSlug: parts[0], runId: parts[1] };
}

/** Parses a created-at entry name `<createdUs>~<runId>~<slug>`. */
export function parseCreatedName(name: string): (RunAddress & { createdAtUs: number }) | null {
  const parts = name.split(NAME_SEPARATOR);
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2] || !/^\d+$/.test(parts[0])) return null;
  return { createdAtUs: Number(parts[0]), runId: parts[1], workflowSlug: parts[2] };
}

/**
 * Parses a run-index symlink target back into the run's address. Targets are written relative (`../runs/<slug>/<id>`)
 * so a copied or moved store keeps working; only the last two segments are used, so an absolute target
 * (`/anywhere/runs/<slug>/<id>`) is read the same way.
 */
export function parseRunIndexTarget(target: string): RunAddress | null {
  const m = /(?:^\.\.|^\/.*)\/runs\/([^/]+)\/([^/]+)$/.exec(target);
  return m && m[1] && m[2] ? { workflowSlug: m[1], runId: m[2] } : null;
}

/** Parses a keyed live marker's target back into the key hash. */
export function parseIdempotencyTarget(target: string): { workflowSlug: string; keyHash: string } | null {
  const m = /(?:^\.\.|^\/.*)\/idempotency\/([^/]+)\/([0-9a-f]{64})\.json$/.exec(target);
  return m && m[1] && m[2] ? { workflowSlug: m[1], keyHash: m[2] } : null;
}
