import { expect, it } from "vitest";
import { PostgresBackend, latestVersion } from "../src/index.js";
import { describePostgres, freshSchema } from "../../../test-support/postgres.js";
import { freshBackend, onCleanup, race, withClient } from "./helpers.js";

describePostgres("Postgres migrations", () => {
  it("migrates exactly once when many backends initialize at once (in-process and in 4 processes)", async () => {
    const { schema, url, drop } = await freshSchema("mig");
    onCleanup(drop);
    const backends = Array.from(
      { length: 6 },
      () => new PostgresBackend({ connectionString: url, schema, poolSize: 1 }),
    );
    for (const b of backends) onCleanup(() => b.close());
    await Promise.all(backends.map((b) => b.initialize()));
    const rows = await withClient(url, (c) => c.query(`SELECT version FROM "${schema}".migrations ORDER BY version`));
    expect(rows.rows.map((r: { version: number }) => r.version)).toEqual(
      Array.from({ length: latestVersion() }, (_, i) => i + 1),
    );

    const other = await freshSchema("mig");
    onCleanup(other.drop);
    await withClient(url, (c) => c.query(`DROP SCHEMA "${other.schema}"`)); // let the children create it
    const results = await race<string>(url, other.schema, "init", "", 4);
    expect(results).toEqual(["ok", "ok", "ok", "ok"]);
    const applied = await withClient(url, (c) =>
      c.query(`SELECT count(*)::int AS n FROM "${other.schema}".migrations`),
    );
    expect(applied.rows[0].n).toBe(latestVersion());
  });

  it("refuses a schema migrated by a newer breaking version with SCHEMA_TOO_NEW, tolerates newer non-breaking ones", async () => {
    const { schema, url } = await freshBackend();
    await withClient(url, (c) =>
      c.query(`INSERT INTO "${schema}".migrations (version, name, breaking) VALUES (900, '0900_additive', false)`),
    );
    const tolerant = new PostgresBackend({ connectionString: url, schema });
    onCleanup(() => tolerant.close());
    await tolerant.initialize();
    await withClient(url, (c) =>
      c.query(`INSERT INTO "${schema}".migrations (version, name, breaking) VALUES (901, '0901_breaking', true)`),
    );
    const refused = new PostgresBackend({ connectionString: url, schema });
    onCleanup(() => refused.close());
    await expect(refused.initialize()).rejects.toMatchObject({ code: "SCHEMA_TOO_NEW" });
  });

  it("reports a schema whose tables are gone (dropped under a running backend) as NOT_A_CAIRN_STORE", async () => {
    const { schema, url, drop } = await freshSchema("mig");
    onCleanup(drop);
    const b = new PostgresBackend({ connectionString: url, schema });
    onCleanup(() => b.close());
    await b.initialize();
    await withClient(url, (c) => c.query(`DROP SCHEMA "${schema}" CASCADE`));
    await expect(b.getRun("r1")).rejects.toMatchObject({ code: "NOT_A_CAIRN_STORE" });
  });
});
