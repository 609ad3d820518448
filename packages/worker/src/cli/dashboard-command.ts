import { openBackend } from "../backend-url.js";
import { resolveBackendUrl } from "../config.js";
import { action, defineCommand, intFlag, type CliProgram } from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";

interface DashboardFlags {
  port?: string;
  host?: string;
  auth?: string;
  readOnly?: boolean;
}

/** `cairn dashboard`: serves the web dashboard (and /metrics) over the configured backend until SIGINT/SIGTERM. */
export function defineDashboardCommand(cli: CliProgram): void {
  defineCommand(
    cli,
    "dashboard",
    "serve the web dashboard: runs, timelines, errors, workflows, workers, actions, /metrics",
    [
      "cairn dashboard",
      "cairn dashboard --port 8080 --host 0.0.0.0 --auth admin:s3cret",
      "cairn dashboard --read-only --json",
    ],
  )
    .option("-p, --port <port>", "port to listen on (default 4100, env CAIRN_DASHBOARD_PORT)")
    .option("--host <address>", "address to bind (default 127.0.0.1: this machine only)")
    .option(
      "--auth <user:password>",
      "require basic auth with these credentials (default env CAIRN_DASHBOARD_AUTH; none when unset)",
    )
    .option("--read-only", "turn the actions (cancel, retry, rerun, bulk) off")
    .action(
      action<DashboardFlags>(cli, async (_args, v, cx) => {
        const { io } = cx;
        const port = intFlag("port", v.port ?? io.env.CAIRN_DASHBOARD_PORT, 0) ?? 4100;
        if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}.`);
        const authText = v.auth ?? io.env.CAIRN_DASHBOARD_AUTH;
        // Loaded here, not at start-up: the dashboard (Hono, prom-client) is for this command only.
        const { parseAuth, serveDashboard } = await import("@cairn/dashboard");
        const auth = authText ? parseAuth(authText) : undefined;
        const readOnly = v.readOnly === true;
        const { url } = await resolveBackendUrl({
          ...(v.backend ? { flag: v.backend } : {}),
          env: io.env,
          cwd: io.cwd,
        });
        const backend = await openBackend(url, { cwd: io.cwd });
        try {
          const server = await serveDashboard({
            backend,
            port,
            host: v.host ?? "127.0.0.1",
            readOnly,
            ...(auth ? { auth } : {}),
            onError: (err) =>
              io.stderr(
                `[${new Date().toISOString()}] dashboard error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
              ),
          });
          io.stderr(
            `Cairn dashboard at ${server.url}/ (metrics at ${server.url}/metrics)${auth ? ", basic auth on" : ""}${readOnly ? ", read-only" : ""}. Ctrl-C stops it.\n`,
          );
          if (v.json) io.stdout(`${JSON.stringify({ url: server.url, port: server.port })}\n`);
          await new Promise<void>((resolve) => {
            process.once("SIGINT", resolve);
            process.once("SIGTERM", resolve);
          });
          await server.close();
          return ExitCode.ok;
        } finally {
          await backend.close().catch(() => {});
        }
      }),
    );
}
