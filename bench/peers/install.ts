/** The peers' own install (bench/peers/package.json), kept out of the project's; modules loaded by a run-time path. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The folder of the peers' package.json. */
export const PEERS_DIR = dirname(fileURLToPath(import.meta.url));

/** Installs the peers' packages from their lock file when bench/peers/node_modules is missing. */
export function ensurePeersInstalled(log: (msg: string) => void): void {
  if (existsSync(join(PEERS_DIR, "node_modules"))) return;
  log("installing the peers (npm install --prefix bench/peers)");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  execFileSync(npm, ["install", "--prefix", PEERS_DIR, "--no-audit", "--no-fund"], {
    stdio: ["ignore", process.stderr, process.stderr],
  });
}

/**
 * Imports a peer package (`graphile-worker`, `pg-boss`) from bench/peers/node_modules. The specifier is computed at
 * run time, so the root typecheck never needs the package: the module is typed loosely, as `any`.
 */
export async function importPeer(name: string): Promise<any> {
  const require = createRequire(join(PEERS_DIR, "package.json"));
  const entry: string = require.resolve(name);
  return import(pathToFileURL(entry).href);
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes on one machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
