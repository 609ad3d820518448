import { describe, expect, it } from "vitest";
import { z } from "zod";
import { z as z3 } from "zod/v3";
import { zodToJsonSchema } from "zod-to-json-schema";
import { toJsonSchema, zodGeneration } from "../src/json-schema.js";
import { InvalidArgumentError } from "../src/errors.js";

type Json = Record<string, any>;

// The same shape in both generations: nested object, enum, optional, array, default, nullable.
const v4 = z.object({
  name: z.string().min(1),
  age: z.number().int().optional(),
  role: z.enum(["admin", "user"]),
  tags: z.array(z.string()),
  address: z.object({ city: z.string(), zip: z.string().optional() }),
  active: z.boolean().default(true),
  note: z.string().nullable(),
});
const v3 = z3.object({
  name: z3.string().min(1),
  age: z3.number().int().optional(),
  role: z3.enum(["admin", "user"]),
  tags: z3.array(z3.string()),
  address: z3.object({ city: z3.string(), zip: z3.string().optional() }),
  active: z3.boolean().default(true),
  note: z3.string().nullable(),
});

function expectConverted(js: Json): void {
  expect(js.type).toBe("object");
  expect(Object.keys(js.properties).sort()).toEqual(["active", "address", "age", "name", "note", "role", "tags"]);
  expect([...js.required].sort()).toEqual(["address", "name", "note", "role", "tags"]);
  expect(js.properties.name).toMatchObject({ type: "string", minLength: 1 });
  expect(js.properties.age.type).toBe("integer");
  expect(js.properties.role).toMatchObject({ type: "string", enum: ["admin", "user"] });
  expect(js.properties.tags).toMatchObject({ type: "array", items: { type: "string" } });
  expect(js.properties.address).toMatchObject({
    type: "object",
    properties: { city: { type: "string" }, zip: { type: "string" } },
    required: ["city"],
  });
  expect(js.properties.active).toMatchObject({ type: "boolean", default: true });
  expect(JSON.stringify(js.properties.note)).toContain("null");
}

describe("toJsonSchema", () => {
  it("detects the generation", () => {
    expect(zodGeneration(v4)).toBe("zod4");
    expect(zodGeneration(v3)).toBe("zod3");
    expect(zodGeneration({ _def: {} })).toBeNull();
    expect(zodGeneration("z.string()")).toBeNull();
  });

  it("converts a zod 4 schema with its native converter", () => {
    const js = toJsonSchema(v4) as Json;
    expectConverted(js);
    expect(js.$schema).toBe("http://json-schema.org/draft-07/schema#");
  });

  it("converts a zod 3 (zod/v3) schema with zod-to-json-schema", () => {
    const js = toJsonSchema(v3) as Json;
    expectConverted(js);
    expect(js.$schema).toBe("http://json-schema.org/draft-07/schema#");
  });

  it("converts primitive and top-level enum schemas of both generations", () => {
    expect(toJsonSchema(z.string())).toMatchObject({ type: "string" });
    expect(toJsonSchema(z3.string())).toMatchObject({ type: "string" });
    expect(toJsonSchema(z.enum(["a", "b"]))).toMatchObject({ enum: ["a", "b"] });
    expect(toJsonSchema(z3.enum(["a", "b"]))).toMatchObject({ enum: ["a", "b"] });
  });

  it("does not fall into zod-to-json-schema's empty-schema failure on zod 4", () => {
    // The failure mode this guards against: the v3 converter given a zod 4 schema returns a schema with nothing in it.
    const wrong = zodToJsonSchema(v4 as never) as Json;
    expect(wrong.properties).toBeUndefined();
    expect(wrong.type).toBeUndefined();
    // toJsonSchema never returns that for either generation.
    for (const s of [v4, v3]) {
      const js = toJsonSchema(s) as Json;
      expect(Object.keys(js.properties ?? {})).not.toHaveLength(0);
      expect(js).not.toEqual(wrong);
    }
  });

  it("does not throw on types JSON Schema cannot express (zod 4)", () => {
    const js = toJsonSchema(z.object({ when: z.date(), n: z.number() })) as Json;
    expect(js.properties.n).toMatchObject({ type: "number" });
    expect(js.properties).toHaveProperty("when");
  });

  it("rejects anything that is not a zod schema with InvalidArgumentError", () => {
    for (const bad of [undefined, null, 42, "string", {}, [], { type: "object" }, () => 1]) {
      expect(() => toJsonSchema(bad)).toThrow(InvalidArgumentError);
    }
    try {
      toJsonSchema({ type: "object" });
    } catch (err) {
      expect((err as InvalidArgumentError).code).toBe("INVALID_ARGUMENT");
    }
  });
});
