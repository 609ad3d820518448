import {
  BackendUnavailableError,
  CairnError,
  DatabaseNotFoundError,
  NotACairnStoreError,
} from "@cairn/backend-interface";

/** SQLSTATE classes and codes that mean "the server is (temporarily) out of reach": retry later. */
const UNAVAILABLE_CODES = new Set([
  "57P01", // admin_shutdown (pg_terminate_backend, server stop)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, recovery)
  "53300", // too_many_connections
  "53400", // configuration_limit_exceeded
  "58000", // system_error
  "57014", // query_canceled (statement_timeout)
]);
/** Node socket errors that mean the connection is gone. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
]);

/** SQLSTATEs the driver retries itself, inside one call: the transaction was rolled back and nothing was written. */
export const RETRY_IN_DRIVER = new Set(["40001", "40P01", "23505"]);

/** The SQLSTATE (or Node error code) of a pg error, if any. */
export function pgCode(err: unknown): string | undefined {
  return err !== null && typeof err === "object" && "code" in err && typeof (err as { code: unknown }).code === "string"
    ? (err as { code: string }).code
    : undefined;
}

/** True when `err` says the connection or server is gone (rather than the statement being wrong). */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof BackendUnavailableError) return true;
  const code = pgCode(err);
  if (code && (UNAVAILABLE_CODES.has(code) || code.startsWith("08") || SOCKET_CODES.has(code))) return true;
  const message = err instanceof Error ? err.message : "";
  return /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection|Connection ended|not queryable/i.test(
    message,
  );
}

/**
 * Translates a native pg error into the interface's typed errors at the driver boundary:
 * lost connections and restarts become the retryable BackendUnavailableError; a missing Cairn table becomes
 * NotACairnStoreError; Cairn errors pass through; anything else is returned unchanged (a bug to see, not hide).
 */
export function translatePgError(err: unknown, location: string): unknown {
  if (err instanceof CairnError) return err;
  if (isConnectionError(err)) {
    const detail = err instanceof Error ? err.message : String(err);
    return new BackendUnavailableError(`Postgres at ${location} is unreachable (${detail}).`, err);
  }
  const code = pgCode(err);
  if (code === "3D000") return databaseNotFound(err, location);
  if (code === "42P01" || code === "3F000")
    return new NotACairnStoreError(
      location,
      `a Cairn table or schema is missing (${err instanceof Error ? err.message : code}); call initialize() first`,
      err,
    );
  return err;
}

/** SQLSTATE 3D000 (invalid_catalog_name) as a DatabaseNotFoundError whose message gives the `createdb` to run. */
function databaseNotFound(err: unknown, location: string): DatabaseNotFoundError {
  const message = err instanceof Error ? err.message : "";
  // `location` is "<redacted url> schema <name>" (postgres-backend.ts), or just a label when a pool was passed in.
  const url = parseUrl(location.split(" ")[0] ?? "");
  const database =
    /database "([^"]+)" does not exist/.exec(message)?.[1] ?? (url ? decodeURIComponent(url.pathname.slice(1)) : "");
  const flags = url
    ? [
        url.hostname && `-h ${url.hostname}`,
        url.port && `-p ${url.port}`,
        url.username && `-U ${decodeURIComponent(url.username)}`,
      ]
        .filter(Boolean)
        .join(" ")
    : "";
  const createCommand = `createdb ${flags ? `${flags} ` : ""}${database ? shellWord(database) : "<name>"}`;
  return new DatabaseNotFoundError(
    { database, location: url ? `${url.protocol}//${url.host}` : location, createCommand },
    err,
  );
}

function parseUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === "postgres:" || url.protocol === "postgresql:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/** A word the shell passes through unchanged (quoted when it has anything but safe characters). */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
