import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, expect } from "vitest";
import pg from "pg";
import { ManualClock, projectRunState, projectStepStates } from "@cairn/backend-interface";
import type { Backend, StepEvent, WorkflowEvent } from "@cairn/backend-interface";
import { PostgresBackend, type PostgresBackendOptions } from "../src/index.js";
import { freshSchema } from "../../../test-support/postgres.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Registers a cleanup run after the current test. */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

/** A fresh schema and an initialized backend on it (closed and dropped after the test). */
export async function freshBackend(
  options: Partial<PostgresBackendOptions> & { manualClock?: boolean } = {},
): Promise<{ backend: PostgresBackend; schema: string; url: string; clock: ManualClock | undefined }> {
  const { schema, url, drop } = await freshSchema("pgt");
  onCleanup(drop);
  const clock = options.manualClock ? new ManualClock() : undefined;
  const backend = new PostgresBackend({
    connectionString: url,
    schema,
    poolSize: 4,
    ...(clock ? { clock } : {}),
    ...options,
  });
  onCleanup(() => backend.close());
  await backend.initialize();
  return { backend, schema, url, clock };
}

/** A second backend on the same schema (closed after the test). */
export async function sameSchema(
  url: string,
  schema: string,
  options: Partial<PostgresBackendOptions> = {},
): Promise<PostgresBackend> {
  const b = new PostgresBackend({ connectionString: url, schema, poolSize: 4, ...options });
  onCleanup(() => b.close());
  await b.initialize();
  return b;
}

/** Runs `fn` with a plain pg client on `url`. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const CHILD = fileURLToPath(new URL("./child-worker.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Starts `n` child processes on the schema, waits until all are ready, releases them together, returns their JSON results. */
export async function race<T>(url: string, schema: string, task: string, arg: string, n: number): Promise<T[]> {
  const children = Array.from({ length: n }, () => {
    const proc = spawn(
      process.execPath,
      ["--conditions=@cairn/source", "--import", "tsx", CHILD, url, schema, task, arg],
      { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" } },
    );
    let stderr = "";
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<string> => {
      const r = await lines.next();
      if (r.done) throw new Error(`child exited early: ${stderr}`);
      return r.value as string;
    };
    return { proc, next };
  });
  await Promise.all(children.map((c) => c.next()));
  for (const c of children) c.proc.stdin.write("go\n");
  return Promise.all(children.map(async (c) => JSON.parse(await c.next()) as T));
}

/** Every projection row equals the projection of the run's events. */
export async function expectProjectionsMatchEvents(
  backend: Backend,
  workflowSlug: string,
  runIds: string[],
): Promise<void> {
  for (const runId of runIds) {
    const wf = await backend.loadEvents(workflowSlug, runId, { category: "workflow" });
    const steps = await backend.loadEvents(workflowSlug, runId, { category: "step" });
    expect(await backend.getRun(runId)).toEqual(projectRunState(wf as WorkflowEvent[]));
    const rows = await backend.loadRun(workflowSlug, runId);
    expect(rows).toEqual([...projectStepStates(steps as StepEvent[]).values()]);
  }
}
