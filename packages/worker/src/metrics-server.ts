import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** A running /metrics endpoint. */
export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves `registry` at GET /metrics (anything else: 404) on `host` (default 127.0.0.1) and `port` (0: a free one). */
export function serveMetrics(registry: Registry, o: { port: number; host?: string }): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end("Not found\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "Content-Type": registry.contentType }).end(text),
      (err: unknown) =>
        res.writeHead(500).end(`# metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  const host = o.host ?? "127.0.0.1";
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/metrics`,
        port,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
