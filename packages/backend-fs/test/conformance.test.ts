import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConformanceSuite } from "@cairn/conformance-tests";
import { FileSystemBackend } from "../src/index.js";
import { corruptLastStepBatch } from "./fs-test-utils.js";

defineConformanceSuite({
  name: "filesystem",
  create: async ({ clock }) => {
    const dir = await mkdtemp(join(tmpdir(), "cairn-fs-conf-"));
    const backend = new FileSystemBackend(dir, {
      durability: "none",
      warnOnCorrupt: false,
      ...(clock ? { clock } : {}),
    });
    await backend.initialize();
    return {
      backend,
      storageDir: dir,
      opener: {
        module: fileURLToPath(new URL("../src/open-backend.ts", import.meta.url)),
        config: { dir, durability: "none" },
      },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  destroy: async (i) => {
    await i.backend.close();
    await i.cleanup();
  },
  capabilities: { multiProcess: true },
  corrupt: async (i, t) => void (await corruptLastStepBatch(i.storageDir as string, t.workflowSlug, t.runId)),
  reportedProblems: (i) => [...(i.backend as FileSystemBackend).driver.corruptRecords],
});
