import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";

/** Every file under `dir` (recursively, skipping dot folders and node_modules), as sorted relative paths with `/`. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(relative(dir, p).split(sep).join("/"));
    }
  };
  await walk(dir);
  return out.sort();
}

/** sha256 over the relative paths and contents of every file of a workflow folder: its version's content hash. */
export async function hashWorkflowFolder(dir: string): Promise<string> {
  const h = createHash("sha256");
  for (const rel of await listFiles(dir)) {
    h.update(rel).update("\0");
    h.update(await readFile(join(dir, rel))).update("\0");
  }
  return h.digest("hex");
}

/** The short form of a content hash used as a versionId. */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}
