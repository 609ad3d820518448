import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { defineConformanceSuite, type ConformanceInstance } from "@cairn/conformance-tests";
import { SqliteBackend } from "../src/index.js";

type Instance = ConformanceInstance & { filename: string };

defineConformanceSuite<Instance>({
  name: "sqlite",
  create: async ({ clock }) => {
    const dir = await mkdtemp(join(tmpdir(), "cairn-sqlite-conf-"));
    const filename = join(dir, "cairn.db");
    const backend = new SqliteBackend(filename, clock ? { clock } : {});
    await backend.initialize();
    return {
      backend,
      filename,
      storageDir: dir,
      opener: { module: fileURLToPath(new URL("../src/open-backend.ts", import.meta.url)), config: { filename } },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  destroy: async (i) => {
    await i.backend.close();
    await i.cleanup();
  },
  capabilities: { multiProcess: true },
  // Damages the run's last step event the way a bad write would: its JSON body cut short.
  corrupt: async (i, t) => {
    const db = new Database(i.filename);
    try {
      db.prepare(
        `UPDATE events SET body = substr(body, 1, length(body) / 2)
                  WHERE seq = (SELECT max(seq) FROM events WHERE run_id = ? AND workflow_slug = ? AND category = 'step')`,
      ).run(t.runId, t.workflowSlug);
    } finally {
      db.close();
    }
  },
  reportedProblems: (i) => [...(i.backend as SqliteBackend).driver.corruptRecords],
});
