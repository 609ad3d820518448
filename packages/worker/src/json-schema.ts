import * as iface from "@cairn/backend-interface";
import { z } from "zod";

type ToJsonSchema = (schema: unknown) => unknown;

/**
 * The JSON Schema of a workflow's input schema. Uses backend-interface's `toJsonSchema` (zod 3 and 4) when it is
 * available, else zod 4's own `z.toJSONSchema`; `undefined` when the schema cannot be converted (it is still
 * used to validate inputs; only the stored JSON Schema is missing).
 */
export function inputJsonSchema(schema: unknown): unknown {
  if (schema === undefined) return undefined;
  const shared = (iface as unknown as Record<string, unknown>).toJsonSchema;
  try {
    if (typeof shared === "function") return (shared as ToJsonSchema)(schema);
    return z.toJSONSchema(schema as z.ZodType, { unrepresentable: "any" });
  } catch {
    return undefined;
  }
}
