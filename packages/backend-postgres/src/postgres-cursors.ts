import type { Cursor } from "@cairn/backend-interface";
import type { PostgresConnection } from "./postgres-connection.js";

/**
 * Compare-and-set cursors on Postgres (the `cursors` table): each write is one statement, an INSERT that does nothing
 * on conflict or an UPDATE conditioned on the old value, so the row lock decides between concurrent writers.
 */
export class PostgresCursors {
  private readonly readSql: string;
  private readonly insertSql: string;
  private readonly updateSql: string;

  constructor(
    private readonly conn: PostgresConnection,
    private readonly schema: string,
    s: string,
  ) {
    this.readSql = `SELECT key, value, at_us FROM ${s}.cursors WHERE key = ANY($1::text[])`;
    this.insertSql = `INSERT INTO ${s}.cursors (key, value, at_us) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`;
    this.updateSql = `UPDATE ${s}.cursors SET value = $2, at_us = $3 WHERE key = $1 AND value = $4`;
  }

  /** The cursors under `keys` (absent ones left out). */
  async read(keys: readonly string[]): Promise<Cursor[]> {
    if (keys.length === 0) return [];
    const r = await this.conn.query<{ key: string; value: string; at_us: string }>({
      name: `${this.schema}:readCursors`,
      text: this.readSql,
      values: [[...keys]],
    });
    return r.rows.map((x) => ({ key: x.key, value: x.value, atUs: Number(x.at_us) }));
  }

  /** Stores `next` when the stored value is `expected` (null: none); true when it did. */
  async compareAndSet(expected: string | null, next: Cursor): Promise<boolean> {
    const r =
      expected === null
        ? await this.conn.query({
            name: `${this.schema}:insertCursor`,
            text: this.insertSql,
            values: [next.key, next.value, next.atUs],
          })
        : await this.conn.query({
            name: `${this.schema}:updateCursor`,
            text: this.updateSql,
            values: [next.key, next.value, next.atUs, expected],
          });
    return (r.rowCount ?? 0) === 1;
  }
}
