import { createRequire } from "node:module";
import { z } from "zod";
import type { zodToJsonSchema as ZodToJsonSchema } from "zod-to-json-schema";
import { InvalidArgumentError } from "./errors.js";

/** zod-to-json-schema, loaded on the first zod 3 schema (most processes never convert one; it is ~40 modules). */
function zodToJsonSchema(...args: Parameters<typeof ZodToJsonSchema>): ReturnType<typeof ZodToJsonSchema> {
  const require = createRequire(import.meta.url);
  return (require("zod-to-json-schema") as { zodToJsonSchema: typeof ZodToJsonSchema }).zodToJsonSchema(...args);
}

/** Which zod generation a schema object belongs to. */
export type ZodGeneration = "zod4" | "zod3";

/**
 * Detects a zod schema's generation: zod 4 schemas (classic `zod` and `zod/mini`) carry an internal `_zod` object;
 * zod 3 schemas (the `zod` 3 package, or `zod/v3` of the zod 4 package) carry `_def.typeName` and `safeParse`.
 * `null` for anything else.
 */
export function zodGeneration(schema: unknown): ZodGeneration | null {
  if (schema === null || (typeof schema !== "object" && typeof schema !== "function")) return null;
  const s = schema as { _zod?: unknown; _def?: { typeName?: unknown }; safeParse?: unknown };
  if (typeof s._zod === "object" && s._zod !== null) return "zod4";
  if (
    typeof s._def === "object" &&
    s._def !== null &&
    typeof s._def.typeName === "string" &&
    typeof s.safeParse === "function"
  )
    return "zod3";
  return null;
}

/**
 * Converts a zod schema (zod 4 or zod 3) to a draft-07 JSON Schema describing the schema's input.
 * zod 4 goes through its native `z.toJSONSchema` (types it cannot express, such as dates or transforms, become `{}`);
 * zod 3 through `zod-to-json-schema`, which must never see a zod 4 schema: it silently returns an empty schema for one.
 * Throws InvalidArgumentError for anything that is not a zod schema.
 */
export function toJsonSchema(schema: unknown): Record<string, unknown> {
  switch (zodGeneration(schema)) {
    case "zod4":
      return z.toJSONSchema(schema as z.ZodType, { target: "draft-7", io: "input", unrepresentable: "any" }) as Record<
        string,
        unknown
      >;
    case "zod3":
      return zodToJsonSchema(schema as Parameters<typeof ZodToJsonSchema>[0], { target: "jsonSchema7" }) as Record<
        string,
        unknown
      >;
    default:
      throw new InvalidArgumentError(
        `Expected a zod schema (zod 3 or zod 4), got ${describe(schema)}. Pass the schema object itself, e.g. z.object({...}).`,
      );
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object that is not a zod schema" : typeof value;
}
