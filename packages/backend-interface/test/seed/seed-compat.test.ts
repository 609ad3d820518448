import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FileSystemBackend } from "@cairn/backend-fs";
import { SqliteBackend } from "@cairn/backend-sqlite";
import { PostgresBackend } from "@cairn/backend-postgres";
import { Backend } from "../../src/index.js";
import type { Backend as SeedBackend } from "./backend-interface.seed.js";

// The compile-time half (checked by `npm run typecheck`, the first step of `npm test`): every driver, and the abstract
// Backend itself, is assignable to the seed's Backend, and each seed method is compatible under strict variance.

/**
 * For each seed method: `true` when the implementation accepts every argument list the seed allows (parameters compared
 * contravariantly, unlike TypeScript's bivariant method check) and returns a subtype of the seed's return type;
 * otherwise a tuple naming the method and what differs, so the compiler error says which one drifted.
 */
type StrictlyCompatible<Impl, Seed> = {
  [K in keyof Seed]: K extends keyof Impl
    ? Seed[K] extends (...args: infer A) => infer R
      ? Impl[K] extends (...args: infer B) => infer S
        ? [A] extends [B]
          ? [S] extends [R]
            ? true
            : ["return type differs from the seed", K]
          : ["parameters narrower than the seed", K]
        : ["not a method", K]
      : true
    : ["missing", K];
};

/** The union of every drifted method's description, or `never` when the implementation matches the seed. */
type Drift<Impl> = {
  [K in keyof SeedBackend]: StrictlyCompatible<Impl, SeedBackend>[K] extends true
    ? never
    : StrictlyCompatible<Impl, SeedBackend>[K];
}[keyof SeedBackend];

/** `true` when nothing drifted; otherwise the drift itself, so assigning `true` fails (hover `Drift<…>` to see every drifted method). */
type NoDrift<Impl> = [Drift<Impl>] extends [never] ? true : Drift<Impl>;

// Plain assignability: catches missing methods, return types and overloads (loadEvents) that the strict check collapses.
export const fsAsSeed: SeedBackend = null as unknown as FileSystemBackend;
export const sqliteAsSeed: SeedBackend = null as unknown as SqliteBackend;
export const postgresAsSeed: SeedBackend = null as unknown as PostgresBackend;
export const backendAsSeed: SeedBackend = null as unknown as Backend;

// Strict variance, method by method.
export const fsStrict: NoDrift<FileSystemBackend> = true;
export const sqliteStrict: NoDrift<SqliteBackend> = true;
export const postgresStrict: NoDrift<PostgresBackend> = true;
export const backendStrict: NoDrift<Backend> = true;

/** The seed's public method names, read from the copied declaration. */
function seedMethodNames(): string[] {
  const text = readFileSync(new URL("./backend-interface.seed.ts", import.meta.url), "utf8");
  return [...new Set([...text.matchAll(/^abstract (\w+)\(/gm)].map((m) => m[1]!))];
}

describe("seed interface compatibility", () => {
  it("the copied seed declares its 54 public methods", () => {
    expect(seedMethodNames()).toHaveLength(54);
  });

  it.each([
    ["FileSystemBackend", FileSystemBackend],
    ["SqliteBackend", SqliteBackend],
    ["PostgresBackend", PostgresBackend],
  ] as const)("%s implements every seed method at run time", (_name, ctor) => {
    const missing = seedMethodNames().filter(
      (m) => typeof (ctor.prototype as unknown as Record<string, unknown>)[m] !== "function",
    );
    expect(missing).toEqual([]);
  });
});
