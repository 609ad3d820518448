import { describe, expect, it } from "vitest";
import { z } from "zod";
import { z as z3 } from "zod/v3";
import { toJsonSchema } from "../src/json-schema.js";
import { InputSchemaValidator } from "../src/input-schema.js";

// The shape of examples/workflows/signup: a format, a bound, defaults; plus a nested strict object and an array.
const signup = z.object({
  email: z.email(),
  age: z.number().int().min(13),
  plan: z.enum(["free", "pro"]).default("free"),
  tags: z.array(z.string()).default([]),
  address: z.object({ city: z.string() }).strict().optional(),
});

const paths = (issues: Array<{ path: string }>) => issues.map((i) => i.path).sort();

describe("input schemas: zod 4 → JSON Schema → Ajv", () => {
  it("a zod 4 object converts to a non-empty JSON Schema with its fields, required list and formats", () => {
    const js = toJsonSchema(signup) as {
      type?: string;
      properties?: Record<string, { format?: string }>;
      required?: string[];
    };
    expect(js.type).toBe("object");
    expect(Object.keys(js.properties ?? {}).sort()).toEqual(["address", "age", "email", "plan", "tags"]);
    expect(js.required?.sort()).toEqual(["age", "email"]);
    expect(js.properties?.email?.format).toBe("email");
  });

  it("Ajv enforces it: required fields, types, bounds and formats, every failing field at once, paths as zod writes them", () => {
    const v = new InputSchemaValidator();
    const js = toJsonSchema(signup);
    expect(v.check(js, { email: "ada@example.com", age: 30 })).toEqual([]);
    expect(
      v.check(js, { email: "ada@example.com", age: 30, plan: "pro", tags: ["x"], address: { city: "Paris" } }),
    ).toEqual([]);
    const bad = v.check(js, { email: "not-an-email", age: 3 });
    expect(paths(bad)).toEqual(["age", "email"]);
    expect(bad.find((i) => i.path === "email")?.message).toBe('must match format "email"');
    const worse = { age: "x", plan: "gold", tags: [1], address: { extra: 1 } };
    const issues = v.check(js, worse);
    expect(paths(issues)).toEqual(["address", "address.city", "age", "email", "plan", "tags.0"]);
    // The same paths the worker's zod check reports for the same input.
    const zodPaths = signup
      .safeParse(worse)
      .error!.issues.map((i) => i.path.join("."))
      .sort();
    expect(paths(issues)).toEqual(zodPaths);
    expect(v.check(js, 5)).toEqual([{ path: "(root)", message: "must be object" }]);
  });

  it("a zod 3 schema converts and is enforced alike", () => {
    const v = new InputSchemaValidator();
    const js = toJsonSchema(z3.object({ email: z3.string().email(), n: z3.number() }));
    expect(paths(v.check(js, { email: "nope" }))).toEqual(["email", "n"]);
  });

  it("reads draft 2020-12 schemas, unescapes JSON Pointer paths, and checks nothing with a schema it cannot compile", () => {
    const v = new InputSchemaValidator();
    const js = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      required: ["a"],
      properties: { "x/y": { type: "string" }, "p~q": { type: "string" } },
    };
    expect(paths(v.check(js, { "x/y": 1, "p~q": 2 }))).toEqual(["a", "p~q", "x/y"]);
    expect(v.check({ type: "no-such-type" }, 1)).toEqual([]);
    expect(v.check("not a schema", 1)).toEqual([]);
    expect(v.check(false, 1)).toHaveLength(1);
  });
});
