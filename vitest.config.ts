import { availableParallelism } from "node:os";
import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Tests run the TypeScript sources: "@cairn/source" picks each workspace package's src/index.ts over its dist/.
const SOURCE = "@cairn/source";

export default defineConfig({
  resolve: { conditions: [SOURCE, ...defaultClientConditions] },
  // Not "module": packages loaded by Node itself (externalized) must resolve as Node resolves them; a "module" build
  // may be meant for bundlers only (@opentelemetry/api's has extensionless imports that Node cannot load).
  ssr: {
    resolve: {
      conditions: [SOURCE, ...defaultServerConditions.filter((c) => c !== "module")],
      externalConditions: [SOURCE],
    },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "conformance-tests/test/**/*.test.ts", "docs/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Vitest's default is one worker per core but one: a single worker on a 2-core CI machine, so the files run one
    // after another while most of them wait on child processes, timers and the database. Two workers there cut an idle
    // run from 542 s to 361 s (every test passing); more cores keep the default.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ["./test-support/global-setup.ts"],
  },
});
