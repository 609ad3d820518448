import { expect, it } from "vitest";
import pg from "pg";
import { describePostgres, freshSchema, postgresUrl } from "../../../test-support/postgres.js";

describePostgres("test Postgres infrastructure", () => {
  it("exposes the chosen URL to forked workers (inject and env) and gives fresh schemas", async () => {
    const url = postgresUrl();
    expect(url).toBeTruthy();
    expect(process.env.CAIRN_TEST_POSTGRES_URL).toBe(url);
    const a = await freshSchema();
    const b = await freshSchema();
    expect(a.schema).not.toBe(b.schema);
    const client = new pg.Client({ connectionString: a.url });
    await client.connect();
    try {
      const exists = async (s: string) =>
        (await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [s])).rowCount;
      expect(await exists(a.schema)).toBe(1);
      await a.drop();
      await b.drop();
      expect(await exists(a.schema)).toBe(0);
    } finally {
      await client.end();
    }
  });
});
