import Database from "better-sqlite3";

/** How SqliteWakeups watches the database. */
export interface SqliteWakeupsOptions {
  /** Watch other processes' commits (a file database); false for ":memory:", which no other connection can see. */
  crossProcess: boolean;
  /** How often `PRAGMA data_version` is read while someone is subscribed (ms); default 3. */
  checkIntervalMs?: number;
}

/** Default period of the data_version check: a few ms of latency for a few µs of work per check. */
export const DEFAULT_CHECK_INTERVAL_MS = 3;

/**
 * Wake-ups for SQLite. Commits of this process (the backend calls `afterCommit`) call the listeners at once; commits
 * of other processes are seen by reading `PRAGMA data_version` every few ms on a read-only connection of its own,
 * which SQLite changes whenever ANOTHER connection has committed. The connection and the timer exist only while
 * someone is subscribed; the timer is unref'd. Each check, and each turn of this process's commits, calls every
 * listener at most once. Any commit counts (a claim or a heartbeat too): a listener may be woken for nothing.
 */
export class SqliteWakeups {
  private readonly listeners = new Set<() => void>();
  private readonly intervalMs: number;
  private reader: { db: Database.Database; dataVersion: Database.Statement<[], number> } | null = null;
  private version: number | undefined = undefined;
  private timer: NodeJS.Timeout | null = null;
  private localPending = false;
  private lost = false;
  private closed = false;

  constructor(
    private readonly filename: string,
    private readonly options: SqliteWakeupsOptions,
  ) {
    this.intervalMs = options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS;
  }

  /** Registers a listener; returns its unsubscribe function (idempotent). */
  subscribe(listener: () => void): () => void {
    if (this.closed) return () => {};
    // A wrapper per subscription, so the same function subscribed twice unsubscribes independently.
    const entry = (): void => listener();
    this.listeners.add(entry);
    if (this.options.crossProcess && !this.timer) {
      this.timer = setInterval(() => this.check(), this.intervalMs);
      this.timer.unref();
      this.check();
    }
    return () => {
      this.listeners.delete(entry);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** This process committed (any commit may have made work ready): wakes the listeners once, after the current turn. */
  afterCommit(): void {
    if (this.listeners.size === 0 || this.localPending) return;
    this.localPending = true;
    queueMicrotask(() => {
      this.localPending = false;
      // Our own commit also moves the reader's data_version: take it in now, so the next check does not wake again.
      this.readVersion();
      this.fire();
    });
  }

  /** Stops watching and forgets every listener. Idempotent. */
  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.stop();
  }

  /** True while the data_version check is running (for tests). */
  get watching(): boolean {
    return this.timer !== null;
  }

  private check(): void {
    const before = this.version;
    const now = this.readVersion();
    if (now === undefined) {
      // What was committed while the version could not be read is unknown: wake once when it can be read again.
      if (before !== undefined) this.lost = true;
      return;
    }
    if (this.lost || (before !== undefined && now !== before)) this.fire();
    this.lost = false;
  }

  /** Reads data_version on the private connection (opened on first use); undefined when the database cannot be read now. */
  private readVersion(): number | undefined {
    if (!this.options.crossProcess || this.closed || this.listeners.size === 0) return undefined;
    try {
      this.reader ??= openReader(this.filename);
      this.version = this.reader.dataVersion.get();
      return this.version;
    } catch {
      // Not created yet, or briefly locked: try again at the next check; the worker's fallback poll covers the gap.
      this.dropReader();
      return undefined;
    }
  }

  private fire(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch {
        // A listener's failure is its own; the others still hear the wake-up.
      }
    }
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.lost = false;
    this.dropReader();
  }

  private dropReader(): void {
    const r = this.reader;
    this.reader = null;
    this.version = undefined;
    try {
      r?.db.close();
    } catch {
      // Closing a read-only connection cannot lose data.
    }
  }
}

/** A read-only connection that never waits for locks, and its one prepared statement (a few µs a call). */
function openReader(filename: string): { db: Database.Database; dataVersion: Database.Statement<[], number> } {
  const db = new Database(filename, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 0");
    return { db, dataVersion: db.prepare<[], number>("PRAGMA data_version").pluck() };
  } catch (err) {
    db.close();
    throw err;
  }
}
