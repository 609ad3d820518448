import { describe, expect, it } from "vitest";
import { checkDag, parseBackendUrl, retryDelayMs, shouldRetry, toRetryPolicy } from "../src/index.js";

describe("checkDag", () => {
  const n = (id: string, ...dependencies: string[]) => ({ id, dependencies, file: `steps/${id}.ts` });
  it("orders dependencies first", () => {
    expect(checkDag([n("load", "a", "b"), n("b", "x"), n("a", "x"), n("x")]).order).toEqual(["x", "a", "b", "load"]);
  });
  it("reports unknown dependencies, self-dependencies and cycles with the file", () => {
    expect(checkDag([n("a", "ghost")]).problems).toEqual([
      { file: "steps/a.ts", message: 'step "a" depends on unknown step "ghost"; expected one of: a' },
    ]);
    expect(checkDag([n("a", "a")]).problems[0]!.message).toMatch(/depends on itself/);
    expect(checkDag([n("a", "c"), n("b", "a"), n("c", "b")]).problems[0]!.message).toBe(
      "dependency cycle: a → c → b → a; a workflow must be a DAG",
    );
  });
});

describe("retry policy", () => {
  it("exponential back-off is capped by maxDelayMs; jitter keeps 50–100%", () => {
    const p = toRetryPolicy({ attempts: 5, delayMs: 100, maxDelayMs: 500, jitter: false });
    expect([1, 2, 3, 4].map((n) => retryDelayMs(p, n))).toEqual([100, 200, 400, 500]);
    const j = toRetryPolicy({ delayMs: 1000 });
    expect(retryDelayMs(j, 1, () => 0)).toBe(500);
    expect(retryDelayMs(j, 1, () => 1)).toBe(1000);
    expect(retryDelayMs(toRetryPolicy({ backoff: "fixed", delayMs: 300, jitter: false }), 4)).toBe(300);
  });
  it("attempts counts the first try", () => {
    const p = toRetryPolicy({ attempts: 3 });
    expect(p.maxRetries).toBe(2);
    expect([1, 2, 3].map((f) => shouldRetry(p, f))).toEqual([true, true, false]);
  });
});

describe("parseBackendUrl", () => {
  it("parses the three drivers", () => {
    expect(parseBackendUrl("file:./data", "/srv")).toEqual({ driver: "fs", url: "file:./data", dir: "/srv/data" });
    expect(parseBackendUrl("file:///abs/dir?durability=none")).toMatchObject({
      driver: "fs",
      dir: "/abs/dir",
      durability: "none",
    });
    expect(parseBackendUrl("sqlite:./.cairn/cairn.db", "/srv")).toMatchObject({
      driver: "sqlite",
      filename: "/srv/.cairn/cairn.db",
    });
    expect(parseBackendUrl("postgres://u@h:5432/db?schema=tenant_1&sslmode=disable")).toMatchObject({
      driver: "postgres",
      connectionString: "postgres://u@h:5432/db?sslmode=disable",
      schema: "tenant_1",
    });
    // Connection counts are Cairn's options, not the server's: out of the connection string.
    expect(parseBackendUrl("postgres://u@h/db?poolSize=4&claimPoolSize=0&sslmode=disable")).toEqual({
      driver: "postgres",
      url: "postgres://u@h/db?poolSize=4&claimPoolSize=0&sslmode=disable",
      connectionString: "postgres://u@h/db?sslmode=disable",
      poolSize: 4,
      claimPoolSize: 0,
    });
  });
  it("rejects malformed URLs with a ConfigError saying what to use", () => {
    expect(() => parseBackendUrl("mysql://x")).toThrow(/Use one of: file:/);
    expect(() => parseBackendUrl("sqlite:")).toThrow(/has no path/);
    expect(() => parseBackendUrl("postgres://u@h/db?schema=bad-name")).toThrow(/Invalid Postgres schema name/);
    expect(() => parseBackendUrl("postgres://u@h/db?poolSize=0")).toThrow(/Invalid poolSize "0".*at least 1/);
    expect(() => parseBackendUrl("postgres://u@h/db?claimPoolSize=-1")).toThrow(/Invalid claimPoolSize "-1"/);
    expect(() => parseBackendUrl("postgres://u@h/db?claimPoolSize=2.5")).toThrow(/Invalid claimPoolSize/);
    try {
      parseBackendUrl("");
    } catch (err) {
      expect((err as { code: string }).code).toBe("CONFIG_ERROR");
    }
  });
});
