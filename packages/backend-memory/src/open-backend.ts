import { ConfigError, type Backend } from "@cairn/backend-interface";
import { MemoryBackend } from "./memory-backend.js";

/** Opens an initialized MemoryBackend on the named in-process store `config.name` (a second backend on the same store). */
export async function openBackend(config: { name: string }): Promise<Backend> {
  const name = (config as { name?: unknown } | null)?.name;
  if (typeof name !== "string" || name.length === 0) throw new ConfigError("openBackend needs {name: string}.", {});
  const backend = new MemoryBackend({ name });
  await backend.initialize();
  return backend;
}
