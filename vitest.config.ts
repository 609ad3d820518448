import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Tests run the TypeScript sources: "@cairn/source" picks each workspace package's src/index.ts over its dist/.
const SOURCE = "@cairn/source";

export default defineConfig({
  resolve: { conditions: [SOURCE, ...defaultClientConditions] },
  // Not "module": packages loaded by Node itself (externalized) must resolve as Node resolves them; a "module" build
  // may be meant for bundlers only (@opentelemetry/api's has extensionless imports that Node cannot load).
  ssr: { resolve: { conditions: [SOURCE, ...defaultServerConditions.filter((c) => c !== "module")], externalConditions: [SOURCE] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "conformance-tests/test/**/*.test.ts", "docs/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["./test-support/global-setup.ts"],
  },
});
