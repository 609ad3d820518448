/** A real read-only directory for tests, even as root (who ignores permission bits): a read-only bind mount. */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A directory on a read-only mount, and how to remove it; null (with why) where mounting is not permitted. */
export async function readOnlyDir(): Promise<
  { dir: string; release: () => Promise<void> } | { dir: null; reason: string }
> {
  const base = await mkdtemp(join(tmpdir(), "cairn-ro-"));
  const source = join(base, "source");
  const dir = join(base, "ro");
  await mkdir(source);
  await mkdir(dir);
  try {
    execFileSync("mount", ["--bind", source, dir], { stdio: "pipe" });
  } catch (err) {
    await rm(base, { recursive: true, force: true });
    return {
      dir: null,
      reason: `cannot bind-mount here: ${String((err as { stderr?: unknown }).stderr ?? err).trim()}`,
    };
  }
  const release = async () => {
    try {
      execFileSync("umount", [dir], { stdio: "pipe" });
    } catch {
      /* already gone */
    }
    await rm(base, { recursive: true, force: true });
  };
  try {
    execFileSync("mount", ["-o", "remount,ro,bind", dir], { stdio: "pipe" });
  } catch (err) {
    await release();
    return {
      dir: null,
      reason: `cannot remount read-only: ${String((err as { stderr?: unknown }).stderr ?? err).trim()}`,
    };
  }
  return { dir, release };
}
