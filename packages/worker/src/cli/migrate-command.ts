import { parse, printJson, withBackend, type Command } from "./command.js";
import { ExitCode } from "./exit-codes.js";

/** `cairn migrate`: opens the backend, which creates or upgrades its storage (migrations run under a lock). */
export const migrateCommand: Command = {
  name: "migrate",
  summary: "create or upgrade the backend's storage (schema migrations)",
  usage: "cairn migrate [--backend <url>] [--json]",
  async run(args, io) {
    const { values: v } = parse(args, {});
    return withBackend(v.backend, io, async (backend, url) => {
      const version = (backend as unknown as { schemaVersion?: unknown }).schemaVersion;
      const info = { backend: url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@"), driver: backend.constructor.name, ...(typeof version === "number" ? { schemaVersion: version } : {}), capabilities: backend.capabilities };
      if (v.json) printJson(io, info);
      else io.stdout(`${info.driver} at ${info.backend} is up to date${typeof version === "number" ? ` (schema version ${version})` : ""}.\n`);
      return ExitCode.ok;
    });
  },
};
