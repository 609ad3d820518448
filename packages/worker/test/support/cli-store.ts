import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Backend } from "@cairn/backend-interface";
import { openBackend } from "../../src/index.js";
import { cairn, startWorkerProcess, until, type CliResult, type WorkerProcess } from "./cli-process.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));
const EXAMPLES = fileURLToPath(new URL("../../../../examples/workflows/", import.meta.url));

/** A fresh SQLite store with a `cairn worker` process running the observe fixture and the hello and flaky examples. */
export interface CliStore {
  tmp: string;
  url: string;
  backend: Backend;
  worker: WorkerProcess;
  /** A folder holding the observe fixture as `observe-solo`, a workflow the background worker does not run. */
  soloDir: string;
  /** Runs the real CLI against this store. */
  run(args: string[], o?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult>;
  close(): Promise<number | null>;
}

/** Starts a CliStore (a real SQLite file, a real worker process with fast timings). */
export async function startCliStore(name: string): Promise<CliStore> {
  const tmp = await mkdtemp(join(tmpdir(), `cairn-${name}-`));
  const dir = join(tmp, "workflows");
  const soloDir = join(tmp, "solo");
  await mkdir(dir);
  await mkdir(soloDir);
  await symlink(join(FIXTURES, "observe"), join(dir, "observe"));
  await symlink(join(FIXTURES, "observe"), join(soloDir, "observe-solo"));
  for (const wf of ["hello", "flaky"]) await symlink(join(EXAMPLES, wf), join(dir, wf));
  const url = `sqlite:${join(tmp, "cairn.db")}`;
  const env = { CAIRN_BACKEND: url, NO_COLOR: "", FORCE_COLOR: "" };
  const worker = startWorkerProcess(
    ["--workflows", dir, "--concurrency", "4", "--heartbeat-ms", "5000", "--poll-ms", "100"],
    { env },
  );
  const backend = await openBackend(url);
  await until(
    "the worker to register its workflows",
    async () => (await backend.getWorkflowMetadata("observe")) !== null,
    30_000,
  );
  return {
    tmp,
    url,
    backend,
    worker,
    soloDir,
    run: (args, o = {}) =>
      cairn(args, { env: { ...env, ...o.env }, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) }),
    async close() {
      const exit = await worker.stop("SIGTERM");
      await backend.close();
      await rm(tmp, { recursive: true, force: true });
      return exit.code;
    },
  };
}
