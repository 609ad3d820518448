/** Spawns the worker process of the peer comparison (peer-worker.ts) and reads its `@@peer` protocol lines. */
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const ENTRY = join(HERE, "peer-worker.ts");

/** A running worker process: its protocol lines as they arrive, its exit, and the tail of its output for errors. */
export interface PeerProcess {
  child: ChildProcess;
  exited: Promise<number>;
  /** Resolves to the first protocol line that satisfies `match` (lines already seen count), or rejects after `ms`. */
  next(match: (line: Record<string, unknown>) => boolean, ms: number, what: string): Promise<Record<string, unknown>>;
  tail(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 20 s. */
  stop(): Promise<void>;
}

/** Starts `peer-worker.ts <kind> <mode> <location> [n]` with tsx, from the project root. */
export function spawnPeer(kind: string, mode: "drain" | "idle", location: string, n = 0): PeerProcess {
  const child = spawn(
    process.execPath,
    ["--conditions=@cairn/source", "--import", "tsx", ENTRY, kind, mode, location, String(n)],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } },
  );
  const seen: Array<Record<string, unknown>> = [];
  const waiters = new Set<{
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }>();
  let text = "";
  let partial = "";
  child.stdout!.on("data", (d: Buffer) => {
    partial += d.toString();
    let nl: number;
    while ((nl = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (!line.startsWith("@@peer ")) {
        text = (text + line + "\n").slice(-2000);
        continue;
      }
      const parsed = JSON.parse(line.slice(7)) as Record<string, unknown>;
      const waiter = [...waiters].find((w) => w.match(parsed));
      if (waiter) {
        waiters.delete(waiter);
        waiter.resolve(parsed);
      } else seen.push(parsed);
    }
  });
  child.stderr!.on("data", (d: Buffer) => {
    text = (text + d.toString()).slice(-2000);
  });
  const exited = new Promise<number>((r) => child.on("exit", (code) => r(code ?? -1)));
  const next: PeerProcess["next"] = (match, ms, what) => {
    const found = seen.findIndex(match);
    if (found >= 0) return Promise.resolve(seen.splice(found, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = {
        match,
        resolve: (l: Record<string, unknown>) => {
          clearTimeout(t);
          resolve(l);
        },
      };
      const t = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`${what}: nothing after ${ms} ms; worker output: ${text.slice(-600)}`));
      }, ms);
      waiters.add(w);
      void exited.then((code) => {
        if (waiters.delete(w)) {
          clearTimeout(t);
          reject(new Error(`${what}: worker exited ${code}; output: ${text.slice(-600)}`));
        }
      });
    });
  };
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(t);
  };
  return { child, exited, next, tail: () => text, stop };
}
