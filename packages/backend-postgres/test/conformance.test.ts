import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConformanceSuite } from "@cairn/conformance-tests";
import { PostgresBackend } from "../src/index.js";
import { describePostgres, freshSchema } from "../../../test-support/postgres.js";

describePostgres("postgres", () => {
  defineConformanceSuite({
    name: "postgres",
    create: async ({ clock }) => {
      const { schema, url, drop } = await freshSchema("conf");
      const outputDir = await mkdtemp(join(tmpdir(), "cairn-pg-out-"));
      const backend = new PostgresBackend({ connectionString: url, schema, outputDir, poolSize: 4, ...(clock ? { clock } : {}) });
      await backend.initialize();
      return {
        backend,
        opener: { module: fileURLToPath(new URL("../src/open-backend.ts", import.meta.url)), config: { connectionString: url, schema } },
        cleanup: async () => {
          await drop();
          await rm(outputDir, { recursive: true, force: true });
        },
      };
    },
    destroy: async (instance) => {
      await instance.backend.close();
      await instance.cleanup();
    },
    capabilities: { multiProcess: true },
  });
});
