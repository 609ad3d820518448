import type { Backend } from "@cairn/backend-interface";
import { ConfigError } from "@cairn/backend-interface";
import { SqliteBackend } from "./sqlite-backend.js";

/** Opens an initialized SqliteBackend on `config.filename` with the system clock: the conformance suite's child processes call this. */
export async function openBackend(config: { filename: string }): Promise<Backend> {
  const filename = (config as { filename?: unknown } | null)?.filename;
  if (typeof filename !== "string" || filename.length === 0)
    throw new ConfigError("openBackend needs {filename: string}.", {});
  const backend = new SqliteBackend(filename);
  await backend.initialize();
  return backend;
}
