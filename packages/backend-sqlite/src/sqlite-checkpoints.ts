import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { Database } from "better-sqlite3";

/** Default WAL size at which a checkpoint is started (as SQLite's wal_autocheckpoint, in pages of 4 KiB). */
export const DEFAULT_CHECKPOINT_PAGES = 10_000;
const PAGE_BYTES = 4096;
/** The WAL may grow to this many times the threshold while the thread checkpoints; beyond, the writer checkpoints itself. */
const BACKSTOP = 4;

/** The checkpoint thread: its own connection to the file, one checkpoint per message. */
const THREAD_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma("busy_timeout = 1000");
parentPort.on("message", (m) => {
  if (m === "close") { db.close(); parentPort.close(); return; }
  let error = null;
  // PASSIVE copies the bulk without blocking anyone; RESTART then copies the few frames written meanwhile and waits
  // for readers of the old WAL, so the next write starts the WAL over (and journal_size_limit truncates it).
  try { db.pragma("wal_checkpoint(PASSIVE)"); db.pragma("wal_checkpoint(RESTART)"); } catch (e) { error = String(e && e.message || e); }
  parentPort.postMessage({ error });
});
`;

/**
 * WAL checkpoints off the writing thread. SQLite's automatic checkpoint runs inside the commit that crosses the
 * threshold, so one commit in every few thousand copies ~40 MiB into the database file and fsyncs it while every write
 * of the process waits (a stall in the p99; BENCHMARKS.md has the A/B). Instead the writing connection has
 * `wal_autocheckpoint = 0`, looks at the WAL's size after each commit (a stat call, a few µs), and when it passes the threshold asks a worker
 * thread with its own connection for a checkpoint: a PASSIVE one copies the bulk without taking the write lock, then a
 * RESTART copies the few frames written meanwhile, so that the next write starts the WAL over (writers wait only for
 * that tail). The thread starts on the first need, so a short-lived process never starts one. If the WAL still grows
 * to 4× the threshold (the thread cannot keep up), the writer checkpoints in the commit path as SQLite would have.
 * `journal_size_limit` truncates a reset WAL back under the threshold, so its file size says how much is unchecked.
 */
export class SqliteCheckpointer {
  /** Checkpoints done by the thread, and by the writer itself at the backstop. */
  readonly done = { thread: 0, writer: 0 };
  private worker: Worker | null = null;
  private inFlight = false;
  /** The thread failed (it could not open the file, say): from then on only the writer's backstop checkpoints. */
  private threadFailed = false;
  private closed = false;
  private readonly thresholdBytes: number;

  constructor(
    private readonly db: Database,
    private readonly filename: string,
    pages = DEFAULT_CHECKPOINT_PAGES,
  ) {
    this.thresholdBytes = pages * PAGE_BYTES;
    db.pragma("wal_autocheckpoint = 0");
    db.pragma(`journal_size_limit = ${Math.floor(this.thresholdBytes / 4)}`);
  }

  /** Called after each commit of the writing connection; never throws (a checkpoint that fails is tried again later). */
  afterCommit(): void {
    if (this.closed) return;
    const size = walBytes(this.filename);
    if (size < this.thresholdBytes) return;
    if (size >= BACKSTOP * this.thresholdBytes) {
      try {
        this.db.pragma("wal_checkpoint(PASSIVE)");
        this.done.writer++;
      } catch {
        // The commit itself succeeded; the next commit past the backstop tries again.
      }
      return;
    }
    if (this.inFlight || this.threadFailed) return;
    this.inFlight = true;
    this.thread().postMessage("checkpoint");
  }

  /**
   * Stops the thread: it finishes a checkpoint it is running, closes its connection and exits; one that does not exit
   * within 5 s is terminated (safe: a checkpoint cut short is redone by the next one).
   */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.postMessage("close");
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), 5000);
    });
    if ((await Promise.race([exited, late])) === "late") await worker.terminate();
    clearTimeout(timer);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const module = createRequire(import.meta.url).resolve("better-sqlite3");
    const worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { module, filename: this.filename } });
    worker.unref();
    worker.on("message", (m: { error: string | null }) => {
      this.inFlight = false;
      if (m.error === null) this.done.thread++;
    });
    // A thread that fails (cannot open the file, say) is dropped and not started again; the backstop bounds the WAL.
    worker.on("error", () => {
      this.inFlight = false;
      this.threadFailed = true;
      if (this.worker === worker) this.worker = null;
    });
    this.worker = worker;
    return worker;
  }
}

function walBytes(filename: string): number {
  try {
    return statSync(`${filename}-wal`).size;
  } catch {
    return 0;
  }
}
