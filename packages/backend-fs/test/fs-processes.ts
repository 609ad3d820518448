import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

const CHILD = fileURLToPath(new URL("./child/fs-child.ts", import.meta.url));
const REPO_ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");

/** A spawned child process running fs-child.ts with one task. */
export function spawnChild(task: Record<string, unknown>): { proc: ChildProcess; result: Promise<unknown> } {
  const proc = spawn(process.execPath, ["--conditions=@cairn/source", "--import", "tsx", CHILD, JSON.stringify(task)], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const result = new Promise<unknown>((res, rej) =>
    proc.on("exit", (code, signal) => {
      if (code === 0) res(JSON.parse(out.trim().split("\n").pop() ?? "null"));
      else rej(new Error(`child exited with ${code ?? signal}: ${err.slice(-2000)}`));
    }),
  );
  return { proc, result };
}

/** Runs children concurrently, all starting at the same instant; resolves with their results. */
export async function race(tasks: Array<Record<string, unknown>>, leadMs = 1500): Promise<unknown[]> {
  const startAtMs = Date.now() + leadMs;
  return Promise.all(tasks.map((t) => spawnChild({ ...t, startAtMs }).result));
}
