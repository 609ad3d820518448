import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { createDashboard, type DashboardOptions } from "./create-dashboard.js";

/** Options of serveDashboard: the dashboard's, and where to listen. */
export interface ServeDashboardOptions extends DashboardOptions {
  /** Default 4100; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1: only this machine can connect unless another address is asked for. */
  host?: string;
}

/** A running dashboard server. */
export interface DashboardServer {
  /** The address it listens on, such as http://127.0.0.1:4100 (with the base path). */
  url: string;
  port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Serves createDashboard on Node's HTTP server. */
export async function serveDashboard(o: ServeDashboardOptions): Promise<DashboardServer> {
  const app = createDashboard(o);
  const host = o.host ?? "127.0.0.1";
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: o.port ?? 4100, hostname: host }, (info: AddressInfo) => {
      const shown = host.includes(":") ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${info.port}${(o.basePath ?? "").replace(/\/+$/, "")}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
    server.once("error", reject);
  });
}
