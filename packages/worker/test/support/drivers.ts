import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshSchema, postgresUnavailableReason } from "../../../../test-support/postgres.js";

/** A driver the e2e suite runs against: fresh storage per suite, as a backend URL. */
export interface DriverCase {
  name: "fs" | "sqlite" | "postgres";
  /** Why this driver cannot run here, or null. */
  unavailable: () => string | null;
  create: () => Promise<{ url: string; cleanup: () => Promise<void> }>;
}

export const DRIVERS: Record<DriverCase["name"], DriverCase> = {
  fs: {
    name: "fs",
    unavailable: () => null,
    async create() {
      const dir = await mkdtemp(join(tmpdir(), "cairn-e2e-fs-"));
      return {
        url: `file:${join(dir, "data")}?durability=none`,
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  sqlite: {
    name: "sqlite",
    unavailable: () => null,
    async create() {
      const dir = await mkdtemp(join(tmpdir(), "cairn-e2e-sqlite-"));
      return { url: `sqlite:${join(dir, "cairn.db")}`, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  postgres: {
    name: "postgres",
    unavailable: () => postgresUnavailableReason(),
    async create() {
      const { schema, url, drop } = await freshSchema("e2e");
      const u = new URL(url);
      u.searchParams.set("schema", schema);
      return { url: u.toString(), cleanup: drop };
    },
  },
};
