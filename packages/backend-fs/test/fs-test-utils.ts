import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "@cairn/backend-interface";
import { FileSystemBackend, FsLayout, type FileSystemBackendOptions } from "../src/index.js";

/** A fresh store in a temp dir with an initialized backend on it. */
export async function freshStore(
  options: FileSystemBackendOptions & { clock?: Clock } = {},
): Promise<{ dir: string; backend: FileSystemBackend; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "cairn-fs-test-"));
  const backend = new FileSystemBackend(dir, { durability: "none", warnOnCorrupt: false, ...options });
  await backend.initialize();
  return { dir, backend, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Damages one stored step event of a run the way a crash or disk fault would: truncates the newest batch file that
 * holds exactly one step event (never RunSubmitted). Returns the damaged path.
 */
export async function corruptLastStepBatch(dir: string, workflowSlug: string, runId: string): Promise<string> {
  const layout = new FsLayout(dir);
  const eventsDir = layout.eventsDir({ workflowSlug, runId });
  const names = (await readdir(eventsDir)).sort().reverse();
  for (const name of names) {
    const path = join(eventsDir, name);
    const events = JSON.parse(await readFile(path, "utf8")) as Array<{ category: string }>;
    if (events.length === 1 && events[0]?.category === "step") {
      const text = await readFile(path, "utf8");
      await writeFile(path, text.slice(0, Math.floor(text.length / 2)));
      return path;
    }
  }
  throw new Error(`run ${runId} has no single-step-event batch to damage`);
}

/** An initialized backend on an existing (or new) store directory. */
export async function openFs(dir: string, options: FileSystemBackendOptions = {}): Promise<FileSystemBackend> {
  const backend = new FileSystemBackend(dir, options);
  await backend.initialize();
  return backend;
}
