// TEMPORARY: runs the conformance suite against a naive test-only driver until real drivers register.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConformanceSuite } from "../src/index.js";
import { MiniBackend } from "./fixture/mini-backend.js";

defineConformanceSuite({
  name: "mini (test fixture)",
  create: async ({ clock }) => {
    const dir = await mkdtemp(join(tmpdir(), "cairn-mini-"));
    const file = join(dir, "db.sqlite");
    const backend = new MiniBackend(file, { ...(clock ? { clock } : {}), outputDir: join(dir, "outputs") });
    await backend.initialize();
    return {
      backend, storageDir: dir,
      opener: { module: fileURLToPath(new URL("./fixture/open-mini-backend.ts", import.meta.url)), config: { file } },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  destroy: async (i) => {
    await i.backend.close();
    await i.cleanup();
  },
  capabilities: { multiProcess: true },
  corrupt: async (i, t) => (i.backend as MiniBackend).corruptLastStepEvent(t.runId),
  reportedProblems: (i) => (i.backend as MiniBackend).problems,
});
