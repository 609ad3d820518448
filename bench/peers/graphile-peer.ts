/** graphile-worker 0.18 in the peer comparison: "defaults" (one job per claim and per completion) and "tuned" (batched). */
import pg from "pg";
import { DATABASE_URL, dropSchema } from "../drivers.js";
import { importPeer, wallMs } from "./install.js";
import { SLOTS, type PeerSystem, type StartPeerWorker } from "./peer-system.js";

/** Options of the tuned variant: a local queue fetched in batches, completions batched. */
const TUNED = { localQueue: { size: 100 }, completeJobBatchDelay: 10, failJobBatchDelay: 10 } as const;

let seq = 0;

async function quietLogger(): Promise<any> {
  const { Logger } = await importPeer("graphile-worker");
  return new Logger(() => (level: string, message: string) => {
    if (level === "error") process.stderr.write(`[graphile-worker] ${message}\n`);
  });
}

/** The graphile-worker system, `defaults` or `tuned`. */
export function graphilePeer(variant: "defaults" | "tuned"): PeerSystem {
  return {
    id: `graphile-${variant}`,
    config:
      variant === "defaults"
        ? `concurrency ${SLOTS}, everything else default`
        : `concurrency ${SLOTS}, localQueue.size ${TUNED.localQueue.size}, completeJobBatchDelay ${TUNED.completeJobBatchDelay} ms`,
    kind: "graphile",
    driver: "postgres",
    stepsPerJob: 1,
    prepare: async () => {
      const gw = await importPeer("graphile-worker");
      const schema = `peers_graphile_${process.pid}_${Date.now().toString(36)}_${seq++}`;
      const logger = await quietLogger();
      await gw.runMigrations({ connectionString: DATABASE_URL, schema, logger });
      const utils = await gw.makeWorkerUtils({ connectionString: DATABASE_URL, schema, logger });
      return {
        location: JSON.stringify({ schema, variant }),
        enqueueApi: "addJobs (one call)",
        enqueueMany: async (n) => {
          await utils.addJobs(Array.from({ length: n }, (_, i) => ({ identifier: "noop", payload: { i } })));
        },
        enqueueOne: async (i) => {
          await utils.addJob("noop", { i });
          return String(i);
        },
        destroy: async () => {
          await utils.release();
          await dropSchema(schema);
        },
      };
    },
  };
}

/** Runs a graphile-worker pool with one no-op task; completed jobs are deleted, so an empty jobs table is drained. */
export const startGraphileWorker: StartPeerWorker = async (location, hooks) => {
  const { schema, variant } = JSON.parse(location) as { schema: string; variant: "defaults" | "tuned" };
  const gw = await importPeer("graphile-worker");
  const runner = await gw.run({
    connectionString: DATABASE_URL,
    schema,
    concurrency: SLOTS,
    noHandleSignals: true,
    logger: await quietLogger(),
    ...(variant === "tuned" ? { preset: { worker: TUNED } } : {}),
    taskList: {
      noop: async (payload: { i: number }) => {
        hooks.started(String(payload.i), wallMs());
        hooks.finished();
      },
    },
  });
  const probe = new pg.Client({ connectionString: DATABASE_URL });
  await probe.connect();
  return {
    drained: async () => {
      const r = await probe.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}"._private_jobs`);
      return Number(r.rows[0]?.n) === 0;
    },
    stop: async () => {
      await probe.end();
      await runner.stop();
    },
  };
};
