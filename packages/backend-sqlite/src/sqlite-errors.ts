import { dirname } from "node:path";
import {
  BackendUnavailableError,
  CairnError,
  ConfigError,
  NotACairnStoreError,
  StoreNotWritableError,
  pathProblem,
} from "@cairn/backend-interface";

/** The SQLite result code of a better-sqlite3 error (`SQLITE_BUSY`, `SQLITE_CORRUPT`, ...), or undefined for other errors. */
export function sqliteCode(err: unknown): string | undefined {
  if (err && typeof err === "object" && "code" in err && typeof err.code === "string" && err.code.startsWith("SQLITE_"))
    return err.code;
  return undefined;
}

/** True when the error means another connection holds the lock: worth retrying the whole transaction. */
export function isBusy(err: unknown): boolean {
  const code = sqliteCode(err);
  return code !== undefined && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

/**
 * Translates a native SQLite error into the interface's typed errors, naming the database file.
 * CairnErrors and non-SQLite errors pass through unchanged.
 */
export function translateSqliteError(err: unknown, filename: string): unknown {
  if (err instanceof CairnError) return err;
  const code = sqliteCode(err);
  if (code === undefined) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (code.startsWith("SQLITE_NOTADB"))
    return new NotACairnStoreError(filename, `not an SQLite database: ${message}`, err);
  if (code.startsWith("SQLITE_CORRUPT"))
    return new NotACairnStoreError(filename, `the database file is corrupt: ${message}`, err);
  if (code.startsWith("SQLITE_CANTOPEN")) return cannotOpenError(filename, message, err);
  if (code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_PERM") || code.startsWith("SQLITE_AUTH")) {
    return new StoreNotWritableError(
      filename,
      `${pathProblem(dirname(filename))?.message ?? "the database file is read-only"} (${message})`,
      err,
    );
  }
  if (isBusy(err))
    return new BackendUnavailableError(
      `SQLite database ${filename} stayed locked by another connection: ${message}.`,
      err,
    );
  if (
    code.startsWith("SQLITE_FULL") ||
    code.startsWith("SQLITE_IOERR") ||
    code.startsWith("SQLITE_NOMEM") ||
    code.startsWith("SQLITE_PROTOCOL")
  ) {
    return new BackendUnavailableError(
      `SQLite database ${filename} failed an I/O operation (${code}): ${message}.`,
      err,
    );
  }
  return err;
}

/**
 * Why the database file cannot be opened, said plainly: its directory is a file, is on a read-only filesystem or is
 * not writable (StoreNotWritableError), or does not exist (ConfigError). SQLite itself only says "unable to open".
 */
export function cannotOpenError(filename: string, message: string, cause?: unknown): CairnError {
  const problem = pathProblem(dirname(filename));
  if (problem?.kind === "not-a-directory")
    return new ConfigError(`Cannot open SQLite database ${filename}: ${problem.message}.`, { path: filename, cause });
  if (problem) return new StoreNotWritableError(filename, problem.message, cause);
  return new ConfigError(
    `Cannot open SQLite database ${filename}: ${message}. Check that its directory exists and is writable.`,
    { path: filename, cause },
  );
}

/** How long to keep retrying a transaction that found the database locked, on top of SQLite's own busy timeout. */
export interface BusyRetryPolicy {
  /** Total time budget across retries, ms. */
  maxWaitMs: number;
  /** First back-off delay, ms; doubles up to 100 ms, with jitter. */
  initialDelayMs: number;
}

/** The default: up to 30 s of retries beyond the busy timeout, starting at 2 ms. */
export const DEFAULT_BUSY_RETRY: BusyRetryPolicy = { maxWaitMs: 30_000, initialDelayMs: 2 };

/**
 * Runs `fn` (one whole transaction) and retries it with jittered exponential back-off while SQLite reports
 * SQLITE_BUSY / SQLITE_LOCKED, so a busy database is never surfaced to the caller as a failure unless the
 * budget runs out (then BackendUnavailableError, retryable). Other errors are translated and rethrown at once.
 */
export async function withBusyRetry<T>(
  fn: () => T,
  filename: string,
  policy: BusyRetryPolicy = DEFAULT_BUSY_RETRY,
): Promise<T> {
  const started = Date.now();
  let delay = policy.initialDelayMs;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err) || Date.now() - started > policy.maxWaitMs) throw translateSqliteError(err, filename);
    }
    await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
    delay = Math.min(delay * 2, 100);
  }
}
