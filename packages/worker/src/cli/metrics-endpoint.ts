import type { Backend } from "@cairn/backend-interface";
import { serveMetrics, type MetricsServer } from "../metrics-server.js";
import { workerMetrics } from "../worker-metrics.js";
import type { WorkerHandle } from "../worker.js";
import type { CliIO } from "./command.js";

/** `cairn worker --metrics-port`: the worker's metrics served at /metrics until the worker stops; nothing without a port. */
export async function startMetricsEndpoint(
  handle: WorkerHandle,
  backend: Backend,
  port: number | undefined,
  concurrency: number | undefined,
  io: CliIO,
): Promise<MetricsServer | undefined> {
  if (port === undefined) return undefined;
  let metrics: ReturnType<typeof workerMetrics> | undefined;
  let server: MetricsServer;
  try {
    metrics = workerMetrics({ backend, events: handle.events, concurrency: concurrency ?? 4 });
    server = await serveMetrics(metrics.registry, { port, host: io.env.CAIRN_METRICS_HOST ?? "127.0.0.1" });
  } catch (err) {
    metrics?.stop();
    await handle.stop({ urgent: true }); // a worker asked to be observable does not run unobserved
    throw err;
  }
  io.stderr(`[${new Date().toISOString()}] metrics at ${server.url}\n`);
  return {
    ...server,
    close: async () => {
      metrics?.stop();
      await server.close();
    },
  };
}
