import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { NotACairnStoreError, SchemaTooNewError } from "@cairn/backend-interface";
import { readDirOrEmpty, readTextOrNull, type AtomicFs } from "./fs-atomic.js";
import { isErrno, withFsErrors } from "./fs-errors.js";
import type { FsLayout } from "./fs-layout.js";

/** The on-disk format version this driver writes and reads. */
export const FS_SCHEMA_VERSION = 2;
/** Version 1 kept batches in `runs/<slug>/<runId>/events/`; no such store was deployed, so it is refused, not migrated. */
const OLDEST_READABLE_VERSION = 2;
const FORMAT = "cairn-fs";
/** Temp files older than this whose writer process is gone are removed at startup. */
const STALE_TMP_MS = 60_000;

/**
 * Opens (or creates) the store in `layout.root`: an empty or missing directory becomes a new store; a directory with a
 * `cairn-store.json` of a supported version is opened; anything else is refused (NotACairnStoreError,
 * SchemaTooNewError) rather than written into. Also removes temp files left by dead processes.
 */
export async function openStore(layout: FsLayout, atomic: AtomicFs): Promise<void> {
  await withFsErrors("creating", layout.root, () => fsp.mkdir(layout.root, { recursive: true }));
  let text = await readTextOrNull(layout.storeFile());
  if (text === null) {
    const others = (await readDirOrEmpty(layout.root)).filter((n) => !n.startsWith("cairn-store.json") && n !== "tmp");
    if (others.length > 0) {
      text = await readTextOrNull(layout.storeFile()); // another process may just have created the store
      if (text === null)
        throw new NotACairnStoreError(layout.root, "the directory is not empty and has no cairn-store.json");
    } else {
      await createMarker(layout);
      text = await readTextOrNull(layout.storeFile());
    }
  }
  checkMarker(layout, text ?? "");
  await atomic.ensureDir(layout.tmpDir());
  await removeStaleTemps(layout.tmpDir());
}

async function createMarker(layout: FsLayout): Promise<void> {
  const body = `${JSON.stringify({ format: FORMAT, schemaVersion: FS_SCHEMA_VERSION }, null, 2)}\n`;
  // Written beside the marker and linked: concurrent openers see the whole marker or none.
  const tmp = `${layout.storeFile()}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await fsp.writeFile(tmp, body, { flag: "wx" });
  try {
    await fsp.link(tmp, layout.storeFile());
  } catch (err) {
    if (!isErrno(err, "EEXIST")) throw err;
  } finally {
    await fsp.unlink(tmp).catch(() => undefined);
  }
}

function checkMarker(layout: FsLayout, text: string): void {
  let marker: { format?: unknown; schemaVersion?: unknown };
  try {
    marker = JSON.parse(text) as typeof marker;
  } catch (err) {
    throw new NotACairnStoreError(layout.root, "cairn-store.json is not valid JSON", err);
  }
  if (marker.format !== FORMAT || typeof marker.schemaVersion !== "number")
    throw new NotACairnStoreError(layout.root, "cairn-store.json is not a filesystem store marker");
  if (marker.schemaVersion > FS_SCHEMA_VERSION)
    throw new SchemaTooNewError(layout.storeFile(), marker.schemaVersion, FS_SCHEMA_VERSION);
  if (marker.schemaVersion < OLDEST_READABLE_VERSION) {
    throw new NotACairnStoreError(
      layout.root,
      `store format ${marker.schemaVersion} (batches under events/) is not readable by this version (format ${FS_SCHEMA_VERSION})`,
    );
  }
}

async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await readDirOrEmpty(dir)) {
    const pid = Number(name.split("-")[0]);
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue;
    const path = join(dir, name);
    try {
      const st = await fsp.stat(path);
      if (Date.now() - st.mtimeMs > STALE_TMP_MS) await fsp.unlink(path);
    } catch {
      // Gone already, or not ours to judge.
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, "EPERM");
  }
}
