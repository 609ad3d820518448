/** pg-boss 12.35 in the peer comparison, tuned: batched fetches, continuous fetching while batches come back full, NOTIFY wake-ups. */
import pg from "pg";
import { DATABASE_URL, dropSchema } from "../drivers.js";
import { importPeer, wallMs } from "./install.js";
import { SLOTS, type PeerSystem, type StartPeerWorker } from "./peer-system.js";

const QUEUE = "noop";
/** Two fetch loops of 5 jobs: at most 10 jobs run at once, like the others' 10 slots; the next batch is fetched while one runs. */
const WORK = { batchSize: 5, localConcurrency: 2, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 } as const;

let seq = 0;

async function startBoss(schema: string, options: Record<string, unknown> = {}): Promise<any> {
  const { PgBoss } = await importPeer("pg-boss");
  const boss = new PgBoss({ connectionString: DATABASE_URL, schema, useListenNotify: true, ...options });
  boss.on("error", (e: unknown) => process.stderr.write(`[pg-boss] ${e instanceof Error ? e.message : String(e)}\n`));
  await boss.start();
  return boss;
}

/** The pg-boss system, tuned (its defaults poll every 2 s for one job per fetch: not a throughput configuration). */
export function pgBossPeer(): PeerSystem {
  return {
    id: "pg-boss-tuned",
    config: `work({ batchSize ${WORK.batchSize}, localConcurrency ${WORK.localConcurrency}, burstWhenBatchFull, pollingIntervalSeconds ${WORK.pollingIntervalSeconds} }), useListenNotify with a notify queue`,
    kind: "pg-boss",
    driver: "postgres",
    stepsPerJob: 1,
    prepare: async () => {
      const schema = `peers_pgboss_${process.pid}_${Date.now().toString(36)}_${seq++}`;
      // The enqueuing side runs no maintenance or scheduling: only the worker process supervises.
      const boss = await startBoss(schema, { supervise: false, schedule: false, useListenNotify: false });
      await boss.createQueue(QUEUE, { notify: true });
      return {
        location: schema,
        enqueueApi: "insert (one call)",
        enqueueMany: async (n) => {
          await boss.insert(
            QUEUE,
            Array.from({ length: n }, (_, i) => ({ data: { i } })),
          );
        },
        enqueueOne: async (i) => {
          await boss.send(QUEUE, { i });
          return String(i);
        },
        destroy: async () => {
          await boss.stop({ graceful: false, close: true });
          await dropSchema(schema);
        },
      };
    },
  };
}

/** Runs pg-boss workers on the queue; a job is finished once its state is past `active`. */
export const startPgBossWorker: StartPeerWorker = async (schema, hooks) => {
  const boss = await startBoss(schema);
  await boss.work(QUEUE, WORK, async (jobs: Array<{ data: { i: number } }>) => {
    const at = wallMs();
    for (const job of jobs) hooks.started(String(job.data.i), at);
    for (let k = 0; k < jobs.length; k++) hooks.finished();
  });
  const probe = new pg.Client({ connectionString: DATABASE_URL });
  await probe.connect();
  return {
    drained: async () => {
      const r = await probe.query<{ n: string }>(
        `SELECT count(*) AS n FROM "${schema}".job WHERE state IN ('created', 'retry', 'active')`,
      );
      return Number(r.rows[0]?.n) === 0;
    },
    stop: async () => {
      await probe.end();
      await boss.stop({ graceful: true, close: true, timeout: 10_000 });
    },
  };
};
