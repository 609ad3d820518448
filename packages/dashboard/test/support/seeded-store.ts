import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Backend } from "@cairn/backend-interface";
import { discoverWorkflows, openBackend, registerWorkflows, submit } from "@cairn/worker";

/** The real CLI entry point. */
export const CAIRN_BIN = fileURLToPath(new URL("../../../worker/bin/cairn.js", import.meta.url));
/** The quick start's example workflows. */
export const EXAMPLES_DIR = fileURLToPath(new URL("../../../../examples/workflows", import.meta.url));
/** This package's test workflows: report (fetch → render → publish, can fail) and hold (runs until cancelled). */
export const FIXTURES_DIR = fileURLToPath(new URL("../fixtures/workflows", import.meta.url));

/** A fresh SQLite store and an open backend on it. */
export interface Store {
  dir: string;
  url: string;
  backend: Backend;
  cleanup(): Promise<void>;
}

/** Opens a fresh SQLite file and registers the example and fixture workflows in it. */
export async function freshStore(): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), "cairn-dashboard-"));
  const url = `sqlite:${join(dir, "cairn.db")}`;
  const backend = await openBackend(url);
  for (const d of [EXAMPLES_DIR, FIXTURES_DIR])
    await registerWorkflows(backend, (await discoverWorkflows(d)).workflows);
  return {
    dir,
    url,
    backend,
    async cleanup() {
      await backend.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `cairn <args>` as a real process; resolves with its exit code and output. */
export function cairn(
  args: string[],
  timeoutMs = 60_000,
  o: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAIRN_BIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      cwd: o.cwd ?? process.cwd(),
      env: { ...(o.env ?? process.env), CAIRN_POLL_MS: "50" },
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`cairn ${args.join(" ")} timed out:\n${output}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Drains the store's runs with real `cairn worker --once` processes, one per workflows folder. */
export async function drain(store: Store): Promise<void> {
  const results = await Promise.all(
    [EXAMPLES_DIR, FIXTURES_DIR].map((d) =>
      cairn(["worker", "--once", "--quiet", "--workflows", d, "--backend", store.url]),
    ),
  );
  for (const r of results) if (r.code !== 0) throw new Error(`worker exited ${r.code}:\n${r.output}`);
}

/** The runs a seeded store holds, by what they show. */
export interface Seeded {
  hello: string[];
  flaky: string;
  conditional: string;
  etl: string;
  reportOk: string;
  reportFailed: string[];
}

/**
 * Submits the quick start's examples and the report fixture (two of them failing, tagged `nightly`, tenant `acme`)
 * and runs them to the end with real worker processes.
 */
export async function seed(store: Store): Promise<Seeded> {
  const b = store.backend;
  const id = async (
    workflow: string,
    input?: unknown,
    extra: { tags?: string[]; metadata?: Record<string, unknown> } = {},
  ) => (await submit(b, { workflow, ...(input === undefined ? {} : { input }), ...extra })).runId;
  const seeded: Seeded = {
    hello: [
      await id("hello", { name: "Ada" }),
      await id("hello", { name: "Grace", excited: true }),
      await id("hello", { name: "Linus" }),
    ],
    flaky: await id("flaky"),
    conditional: await id("conditional", { notify: false }),
    etl: await id("etl", { rows: 12 }),
    reportOk: await id("report", { fail: false }, { tags: ["nightly"] }),
    reportFailed: [
      await id("report", { fail: true }, { tags: ["nightly"], metadata: { tenant: "acme" } }),
      await id("report", { fail: true }, { tags: ["nightly"], metadata: { tenant: "acme" } }),
    ],
  };
  await drain(store);
  return seeded;
}
