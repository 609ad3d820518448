import { toJsonSchema } from "@cairn/backend-interface";

/**
 * The JSON Schema of a workflow's input schema (zod 3 or 4, through backend-interface's toJsonSchema);
 * `undefined` when the schema cannot be converted (it still validates inputs; only the stored JSON Schema is missing).
 */
export function inputJsonSchema(schema: unknown): unknown {
  if (schema === undefined) return undefined;
  try {
    return toJsonSchema(schema);
  } catch {
    return undefined;
  }
}
