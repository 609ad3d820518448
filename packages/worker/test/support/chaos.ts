import { spawn } from "node:child_process";
import { CAIRN_BIN, startWorkerProcess, type CliResult, type WorkerProcess } from "./cli-process.js";

/** The chaos test's knobs: CI-sized defaults, longer runs through the environment. */
export interface ChaosSettings {
  /** Distinct idempotency keys, so distinct runs (CAIRN_CHAOS_RUNS, default 80). */
  runs: number;
  /** How long workers are killed and restarted (CAIRN_CHAOS_SECONDS, default 20). */
  seconds: number;
  /** Seed of the PRNG that plans inputs, duplicates, kill times and victims (CAIRN_CHAOS_SEED, default random). */
  seed: number;
  /** Slots per worker (CAIRN_CHAOS_CONCURRENCY, default 4). */
  concurrency: number;
  /** How long the survivors get to finish every run after the chaos (CAIRN_CHAOS_DRAIN_SECONDS, default 60). */
  drainSeconds: number;
}

/** Reads the settings from the environment; a malformed value throws rather than silently falling back. */
export function chaosSettings(env: NodeJS.ProcessEnv): ChaosSettings {
  const int = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}.`);
    return n;
  };
  return {
    runs: int("CAIRN_CHAOS_RUNS", 80, 1),
    seconds: int("CAIRN_CHAOS_SECONDS", 20, 1),
    seed: int("CAIRN_CHAOS_SEED", Math.floor(Math.random() * 2 ** 32), 0) >>> 0,
    concurrency: int("CAIRN_CHAOS_CONCURRENCY", 4, 1),
    drainSeconds: int("CAIRN_CHAOS_DRAIN_SECONDS", 60, 1),
  };
}

/** A small seeded PRNG (mulberry32): the same seed plans the same chaos. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const P = 1_000_003;

/**
 * The run output the chaos fixture must produce for input `n`, computed here independently of the fixture's
 * steps: a = 31n+7, b = 17a+3, c = 13a+11, d = 7b+5c+1, e = 3d+n (all mod P), exported as `{ e: { n, v } }`.
 */
export function expectedChaosOutput(n: number): { e: { n: number; v: number } } {
  const a = (n * 31 + 7) % P;
  const b = (a * 17 + 3) % P;
  const c = (a * 13 + 11) % P;
  const d = (b * 7 + c * 5 + 1) % P;
  return { e: { n, v: (d * 3 + n) % P } };
}

/**
 * Every process a test started, so afterEach can SIGKILL whatever is left (a failed assertion must not leave
 * workers running): `cairn worker` processes and one-shot `cairn` commands alike.
 */
export class ProcessPool {
  private readonly live = new Set<{ kill: () => void; exited: Promise<unknown> }>();
  private closed = false;

  /** Starts `cairn worker <args>` and tracks it until it exits. */
  worker(args: string[], env: NodeJS.ProcessEnv): WorkerProcess {
    this.assertOpen();
    const w = startWorkerProcess(args, { env });
    const entry = { kill: () => w.child.kill("SIGKILL"), exited: w.exited };
    this.live.add(entry);
    void w.exited.then(() => this.live.delete(entry));
    return w;
  }

  /** Runs `cairn <args>` to its end (SIGKILL after `timeoutMs`), tracked meanwhile. */
  cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<CliResult> {
    this.assertOpen();
    const child = spawn(process.execPath, [CAIRN_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<CliResult>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    const entry = { kill: () => child.kill("SIGKILL"), exited: exited.catch(() => undefined) };
    this.live.add(entry);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    return exited.finally(() => {
      clearTimeout(timer);
      this.live.delete(entry);
    });
  }

  /** SIGKILLs every tracked process still running, waits until each has exited, and refuses to start more. */
  async killAll(): Promise<void> {
    this.closed = true;
    const left = [...this.live];
    for (const p of left) p.kill();
    await Promise.all(left.map((p) => p.exited));
  }

  private assertOpen(): void {
    // A test that failed half-way may still have a loop running that would start a replacement worker.
    if (this.closed) throw new Error("The test is over: no more processes are started.");
  }
}
