/**
 * Worker presence end to end: a real `cairn worker` process with nothing to do shows as active, with its concurrency,
 * in `cairn analytics workers --json` within a few seconds, on every driver; after a graceful stop it shows inactive.
 */
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cairn, startWorkerProcess, until } from "./support/cli-process.js";
import { DRIVERS } from "./support/drivers.js";

const HELLO = fileURLToPath(new URL("../../../examples/workflows/hello/", import.meta.url));

interface ListedWorker {
  workerId: string;
  isActive: boolean;
  concurrency: number | null;
  stepsStarted: number;
  pid?: number;
  workflows?: string[];
  stoppedAtUs?: number;
}

async function listedWorker(env: NodeJS.ProcessEnv, workerId: string): Promise<ListedWorker | undefined> {
  const r = await cairn(["analytics", "workers", "--json"], { env });
  if (r.code !== 0) throw new Error(`cairn analytics workers exited ${r.code}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { active: ListedWorker[] }).active.find((w) => w.workerId === workerId);
}

for (const driver of Object.values(DRIVERS)) {
  const reason = driver.unavailable();
  (reason === null ? describe : describe.skip)(
    `worker presence e2e on ${driver.name}${reason ? ` (skipped: ${reason})` : ""}`,
    () => {
      it("an idle `cairn worker` is listed active with its concurrency within seconds, and inactive after SIGTERM", async () => {
        const { url, cleanup } = await driver.create();
        const dir = await mkdtemp(join(tmpdir(), `cairn-presence-${driver.name}-`));
        await symlink(HELLO, join(dir, "hello"));
        const env = { CAIRN_BACKEND: url };
        const workerId = `idle-${driver.name}-${process.pid}`;
        const worker = startWorkerProcess(
          [
            "--workflows",
            dir,
            "--concurrency",
            "3",
            "--presence-ms",
            "200",
            "--poll-ms",
            "100",
            "--worker-id",
            workerId,
            "--json",
          ],
          { env },
        );
        try {
          await until("the worker to start", async () => worker.output().includes('"worker:started"'), 30_000);
          const startedAt = Date.now();
          const live = await until(
            "the idle worker to be listed active",
            async () => {
              const w = await listedWorker(env, workerId);
              return w?.isActive ? w : null;
            },
            10_000,
            200,
          );
          expect(Date.now() - startedAt).toBeLessThan(10_000);
          expect(live).toMatchObject({
            isActive: true,
            concurrency: 3,
            stepsStarted: 0,
            pid: worker.pid,
            workflows: ["hello"],
          });
          const exit = await worker.stop("SIGTERM");
          expect(exit.code, worker.output()).toBe(0);
          expect(await listedWorker(env, workerId)).toMatchObject({
            isActive: false,
            concurrency: 3,
            stoppedAtUs: expect.any(Number),
          });
          const human = await cairn(["analytics", "workers"], { env });
          expect(human.stdout).toContain(workerId);
        } finally {
          await worker.stop("SIGKILL");
          await rm(dir, { recursive: true, force: true });
          await cleanup();
        }
      }, 90_000);
    },
  );
}
