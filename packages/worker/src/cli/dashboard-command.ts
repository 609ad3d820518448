import { parseAuth, serveDashboard } from "@cairn/dashboard";
import { openBackend } from "../backend-url.js";
import { resolveBackendUrl } from "../config.js";
import { intFlag, parse, type Command } from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";

const OPTIONS = {
  port: { type: "string", short: "p" },
  host: { type: "string" },
  auth: { type: "string" },
  "read-only": { type: "boolean", default: false },
} as const;

/** `cairn dashboard`: serves the web dashboard (and /metrics) over the configured backend until SIGINT/SIGTERM. */
export const dashboardCommand: Command = {
  name: "dashboard",
  summary: "serve the web dashboard: runs, timelines, errors, workflows, workers, actions, /metrics",
  usage: `cairn dashboard [--port 4100] [--host 127.0.0.1] [--auth user:password] [--read-only] [--backend <url>]

  --port       port to listen on (default 4100, env CAIRN_DASHBOARD_PORT)
  --host       address to bind (default 127.0.0.1: this machine only)
  --auth       require basic auth with these credentials (default env CAIRN_DASHBOARD_AUTH; none when unset)
  --read-only  turn the actions (cancel, retry, rerun, bulk) off`,
  async run(args, io) {
    const { values: v, positionals } = parse(args, OPTIONS);
    if (positionals.length)
      throw new UsageError(`cairn dashboard takes no positional arguments (got ${positionals.join(" ")}).`);
    const port = intFlag("port", v.port ?? io.env.CAIRN_DASHBOARD_PORT, 0) ?? 4100;
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}.`);
    const authText = v.auth ?? io.env.CAIRN_DASHBOARD_AUTH;
    const auth = authText ? parseAuth(authText) : undefined;
    const { url } = await resolveBackendUrl({ ...(v.backend ? { flag: v.backend } : {}), env: io.env, cwd: io.cwd });
    const backend = await openBackend(url, { cwd: io.cwd });
    try {
      const server = await serveDashboard({
        backend,
        port,
        host: v.host ?? "127.0.0.1",
        readOnly: v["read-only"],
        ...(auth ? { auth } : {}),
        onError: (err) =>
          io.stderr(
            `[${new Date().toISOString()}] dashboard error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
          ),
      });
      io.stderr(
        `Cairn dashboard at ${server.url}/ (metrics at ${server.url}/metrics)${auth ? ", basic auth on" : ""}${v["read-only"] ? ", read-only" : ""}. Ctrl-C stops it.\n`,
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
  },
};
