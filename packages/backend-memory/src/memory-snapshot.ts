import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  NotACairnStoreError,
  SchemaTooNewError,
  StoreNotWritableError,
  pathProblem,
  WorkerPresenceSchema,
  WorkflowRegistrationSchema,
  WorkflowVersionSchema,
  parseEvent,
  type Event,
} from "@cairn/backend-interface";
import { translateSnapshotError } from "./memory-errors.js";
import { MemoryStore } from "./memory-store.js";

/** The snapshot format this driver writes and reads. */
export const MEMORY_SNAPSHOT_VERSION = 1;

/**
 * The store format of the memory driver: a JSON snapshot written on close, read on open. It holds only what is
 * state (every run's events in append order, registrations, versions, presence records); projections and indexes
 * are rebuilt with the pure reducers on load, so a snapshot cannot disagree with itself.
 */
interface Snapshot {
  format: "cairn-memory-snapshot";
  version: number;
  /** `feedSeqs`: each event's feed sequence number (absent in snapshots written before the feed: numbered on load). */
  runs: Array<{ workflowSlug: string; runId: string; events: unknown[]; feedSeqs?: number[] }>;
  workflows: unknown[];
  versions: unknown[];
  presences: unknown[];
  /** Write-once marks (absent in snapshots written before marks existed). */
  marks?: Array<{ key: string; holder: string; atUs: number }>;
  /** Compare-and-set cursors (absent in snapshots written before cursors existed). */
  cursors?: Array<{ key: string; value: string; atUs: number }>;
}

/** Reads a snapshot into a new store; a missing file is an empty store. Every record is validated. */
export async function loadSnapshot(path: string): Promise<MemoryStore> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      // Said now rather than at close, when the work would be lost.
      const problem = pathProblem(dirname(path));
      if (problem) throw new StoreNotWritableError(path, problem.message, err);
      return new MemoryStore();
    }
    throw translateSnapshotError(err, "reading", path);
  }
  let raw: Snapshot;
  try {
    raw = JSON.parse(text) as Snapshot;
  } catch (err) {
    throw new NotACairnStoreError(path, "not JSON", err);
  }
  if (raw?.format !== "cairn-memory-snapshot" || !Number.isInteger(raw.version))
    throw new NotACairnStoreError(path, "not a Cairn memory snapshot");
  if (raw.version > MEMORY_SNAPSHOT_VERSION) throw new SchemaTooNewError(path, raw.version, MEMORY_SNAPSHOT_VERSION);
  const store = new MemoryStore();
  try {
    for (const r of raw.runs) {
      const seqs =
        Array.isArray(r.feedSeqs) && r.feedSeqs.length === r.events.length && r.feedSeqs.every(Number.isSafeInteger)
          ? r.feedSeqs
          : undefined;
      store.apply(
        store.record(r.workflowSlug, r.runId, true)!,
        r.events.map((e) => parseEvent(e) as Event),
        seqs,
      );
    }
    store.sortFeed();
    for (const w of raw.workflows) {
      const reg = WorkflowRegistrationSchema.parse(w);
      store.workflows.set(reg.slug, reg);
    }
    for (const v of raw.versions) {
      const version = WorkflowVersionSchema.parse(v);
      store.versions.set(`${version.workflowSlug}\0${version.versionId}`, version as never);
    }
    for (const m of raw.marks ?? []) {
      if (typeof m?.key !== "string" || typeof m.holder !== "string" || typeof m.atUs !== "number")
        throw new Error("a mark is not {key, holder, atUs}");
      store.marks.set(m.key, { key: m.key, holder: m.holder, atUs: m.atUs });
    }
    for (const c of raw.cursors ?? []) {
      if (typeof c?.key !== "string" || typeof c.value !== "string" || typeof c.atUs !== "number")
        throw new Error("a cursor is not {key, value, atUs}");
      store.cursors.set(c.key, { key: c.key, value: c.value, atUs: c.atUs });
    }
    for (const p of raw.presences) {
      const presence = WorkerPresenceSchema.parse(p);
      store.presences.set(presence.workerId, presence);
    }
  } catch (err) {
    throw new NotACairnStoreError(
      path,
      `a damaged record (${err instanceof Error ? err.message.slice(0, 200) : String(err)})`,
      err,
    );
  }
  return store;
}

/** Writes the store to `path` atomically (a temporary file renamed over it). */
export async function saveSnapshot(store: MemoryStore, path: string): Promise<void> {
  const snapshot: Snapshot = {
    format: "cairn-memory-snapshot",
    version: MEMORY_SNAPSHOT_VERSION,
    runs: [...store.runs.values()].map((r) => ({
      workflowSlug: r.workflowSlug,
      runId: r.runId,
      events: r.events,
      feedSeqs: r.feedSeqs,
    })),
    workflows: [...store.workflows.values()],
    versions: [...store.versions.values()],
    presences: [...store.presences.values()],
    marks: [...store.marks.values()],
    cursors: [...store.cursors.values()],
  };
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, JSON.stringify(snapshot));
    await rename(tmp, path);
  } catch (err) {
    throw translateSnapshotError(err, "writing", path);
  }
}
