// Development runs the TypeScript sources: vitest and child processes started with SOURCE_ARGS resolve every
// workspace package to its src/index.ts ("@cairn/source" condition), never to a possibly stale dist/.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createClient as fromPackage } from "@cairn/client";
import { startWorker as workerFromPackage } from "@cairn/worker";
import { createClient as fromSource } from "../../client/src/client.js";
import { startWorker as workerFromSource } from "../src/worker.js";
import { SOURCE_ARGS } from "./support/cli-process.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PACKAGES = [
  "backend-interface",
  "backend-fs",
  "backend-sqlite",
  "backend-postgres",
  "client",
  "worker",
  "testing",
];

describe("source-first resolution", () => {
  it("vitest loads the packages from their sources", () => {
    expect(fromPackage).toBe(fromSource);
    expect(workerFromPackage).toBe(workerFromSource);
  });

  it("node with SOURCE_ARGS resolves every package to src/index.ts", async () => {
    const script = `console.log(JSON.stringify(${JSON.stringify(PACKAGES)}.map((p) => import.meta.resolve("@cairn/" + p))))`;
    const args = [...SOURCE_ARGS, "--input-type=module", "-e", script];
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, args, { cwd: ROOT }, (err, stdout, stderr) =>
        err ? reject(new Error(stderr)) : resolve(stdout),
      ),
    );
    expect(JSON.parse(out)).toEqual(
      PACKAGES.map((p) => expect.stringMatching(new RegExp(`/packages/${p}/src/index\\.ts$`))),
    );
  });
});
