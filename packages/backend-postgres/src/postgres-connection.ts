import pg from "pg";
import { BackendClosedError } from "@cairn/backend-interface";
import { RETRY_IN_DRIVER, isConnectionError, pgCode, translatePgError } from "./postgres-errors.js";

/** A statement: text plus bound values; `name` makes it a prepared statement reused per connection. */
export interface Statement {
  name?: string;
  text: string;
  values: unknown[];
}

/**
 * The pool and the transaction runner. Every call is one transaction (or one statement); serialization
 * failures, deadlocks and unique-key races are retried here (the transaction rolled back, nothing was written);
 * lost connections surface as BackendUnavailableError, and the pool opens fresh connections on the next call.
 */
export class PostgresConnection {
  closed = false;
  constructor(readonly pool: pg.Pool, readonly location: string, private readonly ownsPool: boolean) {
    // An idle client losing its connection must not crash the process; the pool drops it.
    pool.on("error", () => {});
  }

  /** One statement outside a transaction. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(stmt: Statement): Promise<pg.QueryResult<R>> {
    if (this.closed) throw new BackendClosedError();
    try {
      return await this.pool.query<R>(stmt);
    } catch (err) {
      throw translatePgError(err, this.location);
    }
  }

  /** Runs `fn` in one transaction, retrying it on transient conflicts. `fn` must be safe to re-run. */
  async tx<T>(fn: (client: pg.PoolClient) => Promise<T>, maxAttempts = 12): Promise<T> {
    if (this.closed) throw new BackendClosedError();
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw translatePgError(err, this.location);
      }
      try {
        await client.query("BEGIN");
        const result = await fn(client);
        await client.query("COMMIT");
        client.release();
        return result;
      } catch (err) {
        if (isConnectionError(err)) {
          client.release(err instanceof Error ? err : new Error(String(err)));
          throw translatePgError(err, this.location);
        }
        await client.query("ROLLBACK").catch(() => {});
        client.release();
        const code = pgCode(err);
        if (code && RETRY_IN_DRIVER.has(code) && attempt < maxAttempts) {
          await new Promise((r) => setTimeout(r, Math.random() * 2 * attempt));
          continue;
        }
        throw translatePgError(err, this.location);
      }
    }
  }

  /** Closes the pool when this connection created it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }
}
