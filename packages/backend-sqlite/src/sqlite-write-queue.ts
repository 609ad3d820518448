import type { Database, Transaction } from "better-sqlite3";
import { isBusy, translateSqliteError, withBusyRetry, type BusyRetryPolicy } from "./sqlite-errors.js";

interface PendingWrite {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit for one connection. Writes issued concurrently by this process (several claimers, a producer)
 * are queued and run back to back inside ONE `BEGIN IMMEDIATE` transaction, each in its own savepoint: a write
 * that throws is rolled back (to its savepoint) and rejects alone; the others commit together. A caller's promise settles only
 * after the commit, so a resolved write is durable to the extent synchronous=NORMAL promises (see README).
 * Each write still sees every earlier write of the batch, so guards keep their serial meaning. A busy database
 * (another process holds the lock) retries the whole batch with back-off, never failing the callers.
 */
export class SqliteWriteQueue {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private running: Promise<void> | null = null;
  private readonly tx: Transaction<(ops: PendingWrite[]) => Outcome[]>;
  private readonly savepoint: Transaction<(fn: () => unknown) => unknown>;

  /** `afterCommit` runs after each committed batch (the WAL checkpointer looks at the WAL there). */
  constructor(
    db: Database,
    private readonly filename: string,
    private readonly policy: BusyRetryPolicy,
    private readonly afterCommit?: () => void,
    private readonly maxBatch = 64,
  ) {
    this.savepoint = db.transaction((fn: () => unknown) => fn());
    // A lone write needs no savepoint: if it throws, the whole transaction rolls back and only it is rejected.
    this.tx = db.transaction((ops: PendingWrite[]): Outcome[] =>
      ops.length === 1
        ? [{ ok: true, value: ops[0]!.fn() }]
        : ops.map((op) => this.attempt(() => this.savepoint(op.fn))),
    );
  }

  /** Queues `fn` to run inside the next batch transaction; resolves with its result after the commit. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled && !this.running) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Resolves when every queued write has settled. */
  async drain(): Promise<void> {
    while (this.running || this.pending.length > 0) {
      if (!this.running) await this.flush();
      else await this.running;
    }
  }

  private flush(): Promise<void> {
    this.scheduled = false;
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        while (this.pending.length > 0) await this.commit(this.pending.splice(0, this.maxBatch));
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async commit(batch: PendingWrite[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await withBusyRetry(() => this.tx.immediate(batch), this.filename, this.policy);
    } catch (error) {
      for (const op of batch) op.reject(error);
      return;
    }
    this.afterCommit?.();
    outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.value) : batch[i]!.reject(o.error)));
  }

  /** Runs one write; its own failure becomes its outcome, but a busy database aborts (and retries) the whole batch. */
  private attempt(fn: () => unknown): Outcome {
    try {
      return { ok: true, value: fn() };
    } catch (error) {
      if (isBusy(error)) throw error;
      return { ok: false, error: translateSqliteError(error, this.filename) };
    }
  }
}
