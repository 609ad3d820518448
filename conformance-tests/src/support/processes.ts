import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";
import type { BackendOpener } from "./harness.js";

const CHILD_SCRIPT = fileURLToPath(new URL("../child/child.ts", import.meta.url));
/** The repository root: tsx and the workspace packages resolve from here. */
const REPO_ROOT = resolve(dirname(CHILD_SCRIPT), "../../..");

/** The tasks a child process can run (see child/child.ts). */
export type ChildTask = "claim" | "claim-loop" | "submit" | "reclaim" | "append";

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** One child process holding an open backend on the shared storage, driven by JSON lines over stdin/stdout. */
class Child {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  private waiting: Pending[] = [];
  private stderr = "";

  constructor(opener: BackendOpener, task: ChildTask, index: number) {
    this.proc = spawn(process.execPath, ["--import", "tsx", CHILD_SCRIPT, JSON.stringify({ opener, task, index })], {
      cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" },
    });
    this.proc.stdin!.on("error", () => undefined); // a killed child's pipe
    this.proc.stderr!.on("data", (d: Buffer) => { this.stderr += d.toString(); });
    let onReady!: () => void;
    let onReadyFail!: (e: Error) => void;
    this.ready = new Promise((res, rej) => { onReady = res; onReadyFail = rej; });
    this.exited = new Promise((res) => this.proc.on("exit", (code) => {
      const err = new Error(`child ${index} (${task}) exited with code ${code}: ${this.stderr.slice(-2000)}`);
      onReadyFail(err);
      for (const p of this.waiting.splice(0)) p.reject(err);
      res(code);
    }));
    this.ready.catch(() => undefined);
    createInterface({ input: this.proc.stdout! }).on("line", (line) => {
      let msg: { type: string; result?: unknown; message?: string; code?: string };
      try { msg = JSON.parse(line); } catch { return; }
      if (msg.type === "ready") { onReady(); return; }
      const p = this.waiting.shift();
      if (!p) return;
      if (msg.type === "result") p.resolve(msg.result);
      else p.reject(Object.assign(new Error(`child ${index}: ${msg.message}`), { code: msg.code }));
    });
  }

  /** Sends one command; resolves with the child's result for it. */
  request(command: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.proc.stdin!.write(`${JSON.stringify(command)}\n`);
    });
  }

  /** Sends a command without waiting for an answer (for tasks that loop until killed). */
  fire(command: unknown): void {
    this.proc.stdin!.write(`${JSON.stringify(command)}\n`);
  }
}

/** A group of child processes, spawned in parallel, each with its own backend on the same storage. */
export class ChildPool {
  private constructor(readonly children: Child[]) {}

  /** Spawns `count` children running `task` and waits until every one has opened its backend. */
  static async start(opener: BackendOpener, task: ChildTask, count: number): Promise<ChildPool> {
    const children = Array.from({ length: count }, (_, i) => new Child(opener, task, i));
    const pool = new ChildPool(children);
    try {
      await Promise.all(children.map((c) => c.ready));
    } catch (e) {
      await pool.kill();
      throw e;
    }
    return pool;
  }

  /** Sends every child its command at (nearly) the same moment and collects the results in child order. */
  async round<R>(command: (index: number) => unknown): Promise<R[]> {
    const commands = this.children.map((_, i) => command(i));
    return (await Promise.all(this.children.map((c, i) => c.request(commands[i])))) as R[];
  }

  /** Sends every child a command without waiting. */
  fireAll(command: (index: number) => unknown): void {
    this.children.forEach((c, i) => c.fire(command(i)));
  }

  /** SIGKILLs child `index` and waits for it to die. */
  async killOne(index: number): Promise<void> {
    const c = this.children[index]!;
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
    await c.exited;
  }

  /** Asks every child to close its backend and exit; SIGKILLs any that does not within 10 s. */
  async close(): Promise<void> {
    await Promise.all(this.children.map(async (c) => {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
      c.proc.stdin!.end(`${JSON.stringify({ exit: true })}\n`);
      const timer = setTimeout(() => c.proc.kill("SIGKILL"), 10_000);
      await c.exited;
      clearTimeout(timer);
    }));
  }

  /** SIGKILLs every child still alive. */
  async kill(): Promise<void> {
    await Promise.all(this.children.map((_, i) => this.killOne(i)));
  }
}
