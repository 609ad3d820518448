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
  constructor(
    readonly pool: pg.Pool,
    readonly location: string,
    private readonly ownsPool: boolean,
  ) {
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

  /**
   * One read-only aggregate statement with a larger `work_mem` for its sorts and hash joins (SET LOCAL, so the pooled
   * connection keeps its own setting). Analytics over a day of events would otherwise spill to disk.
   */
  async aggregate<R extends pg.QueryResultRow = pg.QueryResultRow>(
    stmt: Statement,
    workMem: string,
  ): Promise<pg.QueryResult<R>> {
    return this.tx(async (c) => {
      await c.query("SELECT set_config('work_mem', $1, true)", [workMem]);
      return c.query<R>(stmt);
    });
  }

  /** Runs `fn` in one transaction, retrying it on transient conflicts. `fn` must be safe to re-run. */
  async tx<T>(fn: (client: pg.PoolClient) => Promise<T>, maxAttempts = 12): Promise<T> {
    if (this.closed) throw new BackendClosedError();
    for (let attempt = 1; ; attempt++) {
      const client = await this.checkout();
      try {
        await client.query("BEGIN");
        const result = await fn(client);
        await client.query("COMMIT");
        this.release(client);
        return result;
      } catch (err) {
        if (isConnectionError(err)) {
          this.release(client, err);
          throw translatePgError(err, this.location);
        }
        await client.query("ROLLBACK").catch(() => {});
        this.release(client);
        const code = pgCode(err);
        if (code && RETRY_IN_DRIVER.has(code) && attempt < maxAttempts) {
          await new Promise((r) => setTimeout(r, Math.random() * 2 * attempt));
          continue;
        }
        throw translatePgError(err, this.location);
      }
    }
  }

  /** A pooled client with an error listener for the time it is checked out (a connection killed between two
   * statements of a transaction emits 'error' on the client, which would otherwise be an uncaught exception). */
  async checkout(): Promise<pg.PoolClient> {
    if (this.closed) throw new BackendClosedError();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw translatePgError(err, this.location);
    }
    client.on("error", swallow);
    return client;
  }

  /** Returns a client to the pool; with an error, the pool discards it instead. */
  release(client: pg.PoolClient, err?: unknown): void {
    client.off("error", swallow);
    client.release(err === undefined ? undefined : err instanceof Error ? err : new Error(String(err)));
  }

  /** Closes the pool when this connection created it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }
}

function swallow(): void {
  // The failure reaches the caller through the statement that runs next on this client.
}
