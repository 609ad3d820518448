import { action, defineCommand, printJson, withBackend, type CliProgram } from "./command.js";
import { ExitCode } from "./exit-codes.js";

/** `cairn migrate`: opens the backend, which creates or upgrades its storage (migrations run under a lock). */
export function defineMigrateCommand(cli: CliProgram): void {
  defineCommand(cli, "migrate", "create or upgrade the backend's storage (schema migrations)", [
    "cairn migrate --backend postgres://cairn@db/cairn?schema=cairn",
    "cairn migrate --json",
  ]).action(
    action<object>(cli, async (_args, v, cx) =>
      withBackend(v.backend, cx.io, async (backend, url) => {
        const version = (backend as unknown as { schemaVersion?: unknown }).schemaVersion;
        const info = {
          backend: url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@"),
          driver: backend.constructor.name,
          ...(typeof version === "number" ? { schemaVersion: version } : {}),
          capabilities: backend.capabilities,
        };
        if (v.json) printJson(cx.io, info);
        else
          cx.io.stdout(
            `${info.driver} at ${info.backend} is up to date${typeof version === "number" ? ` (schema version ${version})` : ""}.\n`,
          );
        return ExitCode.ok;
      }),
    ),
  );
}
