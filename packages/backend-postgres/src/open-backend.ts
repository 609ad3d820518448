import type { Backend } from "@cairn/backend-interface";
import { PostgresBackend } from "./postgres-backend.js";

/** Opens an initialized PostgresBackend on an existing deployment (used by the conformance suite's child processes). */
export async function openBackend(config: { connectionString: string; schema: string }): Promise<Backend> {
  const backend = new PostgresBackend({ connectionString: config.connectionString, schema: config.schema });
  await backend.initialize();
  return backend;
}
