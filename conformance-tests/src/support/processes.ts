import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";
import type { BackendOpener } from "./harness.js";

const CHILD_SCRIPT = fileURLToPath(new URL("../child/child.ts", import.meta.url));
/** The repository root: tsx and the workspace packages resolve from here. */
const REPO_ROOT = resolve(dirname(CHILD_SCRIPT), "../../..");

/** The tasks a child process can run (see child/child.ts). */
export type ChildTask =
  | "claim"
  | "claim-batch"
  | "claim-loop"
  | "submit"
  | "reclaim"
  | "append"
  | "complete"
  | "cancel"
  | "submit-batch"
  | "maintain"
  | "emit"
  | "tick-schedules"
  | "cas-cursor"
  | "drain"
  | "submit-each"
  | "append-alternating"
  | "increment";

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** One child process that opens backends on request and runs commands, driven by JSON lines over stdin/stdout. */
class Child {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  private waiting: Pending[] = [];
  private stderr = "";

  constructor(readonly index: number) {
    this.proc = spawn(process.execPath, ["--conditions=@cairn/source", "--import", "tsx", CHILD_SCRIPT], {
      cwd: REPO_ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.proc.stdin!.on("error", () => undefined); // writes to a killed child
    this.proc.stderr!.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    let onReady!: () => void;
    let onReadyFail!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      onReady = res;
      onReadyFail = rej;
    });
    this.ready.catch(() => undefined);
    this.exited = new Promise((res) =>
      this.proc.on("exit", (code, signal) => {
        const err = new Error(`child ${index} exited (code ${code}, signal ${signal}): ${this.stderr}`);
        onReadyFail(err);
        for (const p of this.waiting.splice(0)) p.reject(err);
        res();
      }),
    );
    createInterface({ input: this.proc.stdout! }).on("line", (line) => {
      let msg: { type: string; result?: unknown; message?: string; code?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.type === "ready") {
        onReady();
        return;
      }
      const p = this.waiting.shift();
      if (!p) return;
      if (msg.type === "result") p.resolve(msg.result);
      else p.reject(Object.assign(new Error(`child ${index}: ${msg.message}`), { code: msg.code }));
    });
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Sends one command; resolves with the child's answer to it. */
  request(command: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.proc.stdin!.write(`${JSON.stringify(command)}\n`);
    });
  }

  async kill(): Promise<void> {
    if (this.alive) this.proc.kill("SIGKILL");
    await this.exited;
  }
}

/** Some children of the pool, each with a backend open on one test's storage. */
export class ChildGroup {
  constructor(private readonly children: Child[]) {}

  /** Sends every child its command at (nearly) the same moment; collects the results in child order. */
  async round<R>(command: (index: number) => Record<string, unknown>): Promise<R[]> {
    const commands = this.children.map((_, i) => ({ op: "run", ...command(i) }));
    return (await Promise.all(this.children.map((c, i) => c.request(commands[i])))) as R[];
  }

  /** Starts a command on every child without waiting for it to finish (for tasks that loop until killed). */
  async start(command: (index: number) => Record<string, unknown>): Promise<void> {
    await Promise.all(this.children.map((c, i) => c.request({ op: "start", ...command(i) })));
  }

  /** SIGKILLs child `index` of the group and waits for it to die. */
  async killOne(index: number): Promise<void> {
    await this.children[index]!.kill();
  }

  /** Closes the backends of the surviving children (their storage is about to be destroyed). */
  async release(): Promise<void> {
    await Promise.all(
      this.children.filter((c) => c.alive).map((c) => c.request({ op: "close" }).catch(() => undefined)),
    );
  }
}

/**
 * Real child processes shared by the multi-process tests of one suite: spawned once in parallel (starting a TS child
 * costs seconds on a busy machine), reused test after test on each test's fresh storage, respawned when killed.
 */
export class ProcessPool {
  private children: Child[] = [];

  /** Starts spawning `count` children in the background. */
  warm(count: number): void {
    for (let i = this.children.length; i < count; i++) this.children.push(new Child(i));
  }

  /** `count` live children (from index `offset`) with a backend open on `opener`'s storage; release the group at the end of the test. */
  async take(opener: BackendOpener, count: number, offset = 0): Promise<ChildGroup> {
    this.warm(offset + count);
    for (let i = offset; i < offset + count; i++) if (!this.children[i]!.alive) this.children[i] = new Child(i);
    const group = this.children.slice(offset, offset + count);
    await Promise.all(group.map((c) => c.ready));
    await Promise.all(group.map((c) => c.request({ op: "open", opener })));
    return new ChildGroup(group);
  }

  /** Asks every child to exit; SIGKILLs those that do not within 10 s. */
  async close(): Promise<void> {
    const all = this.children.splice(0);
    await Promise.all(
      all.map(async (c) => {
        if (!c.alive) return;
        c.proc.stdin!.end(`${JSON.stringify({ op: "exit" })}\n`);
        const timer = setTimeout(() => c.proc.kill("SIGKILL"), 10_000);
        await c.exited;
        clearTimeout(timer);
      }),
    );
  }
}

/** Runs `body` with `count` children (from `offset`) opened on the storage, releasing them afterwards. */
export async function withChildren<T>(
  pool: ProcessPool,
  opener: BackendOpener,
  count: number,
  body: (group: ChildGroup) => Promise<T>,
  offset = 0,
): Promise<T> {
  const group = await pool.take(opener, count, offset);
  try {
    return await body(group);
  } finally {
    await group.release();
  }
}
