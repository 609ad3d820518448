import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConformanceSuite } from "@cairn/conformance-tests";
import type { ConformanceInstance } from "@cairn/conformance-tests";
import { PostgresBackend } from "../src/index.js";
import { describePostgres, freshSchema } from "../../../test-support/postgres.js";
import { withClient } from "./helpers.js";

type Instance = ConformanceInstance & { schema: string; url: string; problems: Array<{ code?: string }> };

describePostgres("postgres", () => {
  defineConformanceSuite<Instance>({
    name: "postgres",
    create: async ({ clock }) => {
      const { schema, url, drop } = await freshSchema("conf");
      const outputDir = await mkdtemp(join(tmpdir(), "cairn-pg-out-"));
      const problems: Array<{ code?: string }> = [];
      const backend = new PostgresBackend({
        connectionString: url,
        schema,
        outputDir,
        poolSize: 4,
        onCorruptRecord: (e) => problems.push(e),
        ...(clock ? { clock } : {}),
      });
      await backend.initialize();
      return {
        backend,
        schema,
        url,
        problems,
        opener: {
          module: fileURLToPath(new URL("../src/open-backend.ts", import.meta.url)),
          config: { connectionString: url, schema },
        },
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
    // A disk fault or a bad manual edit: one step event row's body replaced by something that is not that event.
    corrupt: async (instance, target) => {
      await withClient(instance.url, (c) =>
        c.query(
          `UPDATE "${instance.schema}".events SET body = '{"damaged": true}' WHERE seq = (SELECT max(seq) FROM "${instance.schema}".events WHERE run_id = $1 AND workflow_slug = $2 AND step_id IS NOT NULL)`,
          [target.runId, target.workflowSlug],
        ),
      );
    },
    reportedProblems: (instance) => instance.problems,
  });
});
