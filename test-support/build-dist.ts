/**
 * Brings every package's dist/ up to date before the tests (incremental `tsc -b`, about a second when nothing
 * changed). Tests run the `cairn` CLI from dist/, as users do: started from the TypeScript sources through tsx it
 * costs about 1.5 s of CPU per process, from dist/ about 0.5 s, and the suite starts a few hundred CLI processes.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export function buildDist(): void {
  const tsc = createRequire(join(ROOT, "package.json")).resolve("typescript/bin/tsc");
  try {
    execFileSync(process.execPath, [tsc, "-b", "tsconfig.build.json"], { cwd: ROOT, stdio: "pipe" });
    execFileSync(process.execPath, [join(ROOT, "scripts", "copy-assets.mjs")], { cwd: ROOT, stdio: "pipe" });
  } catch (err) {
    const out = err && typeof err === "object" && "stdout" in err ? String((err as { stdout: unknown }).stdout) : "";
    throw new Error(
      `[cairn] building dist/ for the tests failed (run \`npm run build\` to see why):\n${out.slice(0, 4000)}`,
    );
  }
}
