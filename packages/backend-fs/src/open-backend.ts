import { ConfigError, type Backend } from "@cairn/backend-interface";
import type { Durability } from "./fs-atomic.js";
import { FileSystemBackend } from "./fs-backend.js";

/** What a child process needs to open the same store: its directory and durability. */
export interface FsOpenConfig {
  dir: string;
  durability?: Durability;
}

/** Opens (and initializes) a FileSystemBackend on an existing or new store, with the system clock. Used by the conformance suite's child processes. */
export async function openBackend(config: unknown): Promise<Backend> {
  const c = config as Partial<FsOpenConfig> | null;
  if (!c || typeof c.dir !== "string" || c.dir.length === 0)
    throw new ConfigError("openBackend needs { dir: string } (the store directory).");
  if (c.durability !== undefined && c.durability !== "fsync" && c.durability !== "none")
    throw new ConfigError(`durability must be "fsync" or "none", got ${JSON.stringify(c.durability)}.`);
  const backend = new FileSystemBackend(c.dir, c.durability ? { durability: c.durability } : {});
  await backend.initialize();
  return backend;
}
