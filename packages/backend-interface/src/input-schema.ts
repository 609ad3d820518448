import { createRequire } from "node:module";
import type { Ajv, ErrorObject, ValidateFunction } from "ajv";
import { canonicalJson } from "./canonical-json.js";
import type { InputIssue } from "./errors.js";

type AjvClass = new (options: object) => Ajv;
type AjvModules = { Ajv: AjvClass; Ajv2019: AjvClass; Ajv2020: AjvClass; addFormats: (ajv: Ajv) => Ajv };

let ajvModules: AjvModules | undefined;

/**
 * Ajv and ajv-formats, loaded on the first compile: about a hundred modules that every process importing this
 * package would otherwise pay for at start-up (the CLI's `--help` and `runs` never validate an input). They are
 * CommonJS, so a synchronous require keeps `check` synchronous.
 */
function loadAjv(): AjvModules {
  if (ajvModules) return ajvModules;
  const require = createRequire(import.meta.url);
  const ajv = require("ajv") as { Ajv: AjvClass };
  const formats = require("ajv-formats") as { default: (ajv: Ajv) => Ajv };
  ajvModules = {
    Ajv: ajv.Ajv,
    Ajv2019: (require("ajv/dist/2019.js") as { Ajv2019: AjvClass }).Ajv2019,
    Ajv2020: (require("ajv/dist/2020.js") as { Ajv2020: AjvClass }).Ajv2020,
    addFormats: formats.default,
  };
  return ajvModules;
}

/** How many compiled schemas a validator keeps (least recently used go first). */
const MAX_COMPILED = 256;

/**
 * Checks run inputs against a workflow's input JSON Schema with Ajv (every failing field, formats such as `email`
 * and `date-time` enforced). Each schema is compiled once and kept by its canonical text, so a re-registered
 * workflow with the same schema reuses it and a changed schema is compiled anew.
 */
export class InputSchemaValidator {
  private readonly compiled = new Map<string, ValidateFunction | null>();
  private readonly engines = new Map<string, Ajv>();

  /**
   * The failing fields of `value` against `schema`, or `[]` when it matches. A schema Ajv cannot compile (not a JSON
   * Schema, an unsupported draft, a broken `$ref`) checks nothing here: the worker's own check of the input still runs.
   */
  check(schema: unknown, value: unknown): InputIssue[] {
    const validate = this.compile(schema);
    if (!validate || validate(value)) return [];
    return issuesOf(validate.errors ?? []);
  }

  private compile(schema: unknown): ValidateFunction | null {
    if (typeof schema === "boolean") schema = schema ? {} : { not: {} };
    if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return null;
    const key = canonicalJson(schema);
    if (this.compiled.has(key)) {
      const hit = this.compiled.get(key)!;
      this.compiled.delete(key);
      this.compiled.set(key, hit);
      return hit;
    }
    let validate: ValidateFunction | null;
    try {
      const { draft, body } = dialectOf(schema as Record<string, unknown>);
      validate = this.engine(draft).compile(body);
    } catch {
      validate = null;
    }
    this.compiled.set(key, validate);
    if (this.compiled.size > MAX_COMPILED) this.compiled.delete(this.compiled.keys().next().value!);
    return validate;
  }

  private engine(draft: Draft): Ajv {
    let ajv = this.engines.get(draft);
    if (!ajv) {
      // strict off: registered schemas come from converters and users, and may carry keywords Ajv does not know.
      const options = { allErrors: true, strict: false, validateFormats: true } as const;
      const { Ajv: Draft7, Ajv2019, Ajv2020, addFormats } = loadAjv();
      ajv =
        draft === "2020-12" ? new Ajv2020(options) : draft === "2019-09" ? new Ajv2019(options) : new Draft7(options);
      addFormats(ajv);
      this.engines.set(draft, ajv);
    }
    return ajv;
  }
}

type Draft = "draft-07" | "2019-09" | "2020-12";

/** The Ajv dialect a schema declares; a `$schema` Ajv has no class for (draft-04, draft-06) is read as draft-07. */
function dialectOf(schema: Record<string, unknown>): { draft: Draft; body: Record<string, unknown> } {
  const declared = typeof schema.$schema === "string" ? schema.$schema : "";
  if (declared.includes("2020-12")) return { draft: "2020-12", body: schema };
  if (declared.includes("2019-09")) return { draft: "2019-09", body: schema };
  if (declared === "" || declared.includes("draft-07")) return { draft: "draft-07", body: schema };
  const { $schema: _ignored, ...body } = schema;
  return { draft: "draft-07", body };
}

/**
 * Ajv's errors as one issue per failing field, paths written as the worker's zod check writes them (`a.0.b`, `(root)`);
 * a missing property is reported at its own path. A field failing several keywords gets one issue whose message joins
 * them, except that a failed `format` hides a failed `pattern` beside it (zod writes a format as both).
 */
function issuesOf(errors: readonly ErrorObject[]): InputIssue[] {
  const byPath = new Map<string, Array<{ keyword: string; message: string }>>();
  for (const e of errors) {
    const segments =
      e.instancePath === ""
        ? []
        : e.instancePath
            .slice(1)
            .split("/")
            .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    let message = e.message ?? `fails ${e.keyword}`;
    if (e.keyword === "required") {
      segments.push(String((e.params as { missingProperty: string }).missingProperty));
      message = "is required";
    }
    if (e.keyword === "additionalProperties")
      message = `must not have the property ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
    const path = segments.length === 0 ? "(root)" : segments.join(".");
    const list = byPath.get(path) ?? [];
    if (!list.some((x) => x.message === message)) list.push({ keyword: e.keyword, message });
    byPath.set(path, list);
  }
  return [...byPath].map(([path, list]) => {
    const shown = list.some((x) => x.keyword === "format") ? list.filter((x) => x.keyword !== "pattern") : list;
    return { path, message: shown.map((x) => x.message).join("; ") };
  });
}
