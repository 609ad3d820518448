import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { defineConformanceSuite } from "@cairn/conformance-tests";
import { MemoryBackend } from "../src/index.js";

defineConformanceSuite({
  name: "memory",
  create: async ({ clock }) => {
    // A named store, so the suite's second in-process backend (the opener) shares it.
    const name = `conformance-${randomUUID()}`;
    const backend = new MemoryBackend({ name, ...(clock ? { clock } : {}) });
    await backend.initialize();
    return {
      backend,
      opener: { module: fileURLToPath(new URL("../src/open-backend.ts", import.meta.url)), config: { name } },
      cleanup: async () => {},
    };
  },
  destroy: async (i) => {
    await i.backend.close();
    await i.cleanup();
  },
  // One process holds the store: the multi-process tests are skipped.
  capabilities: { multiProcess: false },
});
