import type { InputSchema } from "./define-workflow.js";

/** The outcome of validating a run input: the parsed value, or the failing field paths. */
export type InputValidation =
  { success: true; value: unknown } | { success: false; issues: Array<{ path: string; message: string }> };

type Issue = { message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> };

/** Validates `value` against a Standard Schema (zod 3.24+/4 and others). Without a schema every value passes. */
export async function validateInput(schema: InputSchema | undefined, value: unknown): Promise<InputValidation> {
  if (!schema) return { success: true, value };
  const result = (await schema["~standard"].validate(value)) as { value?: unknown; issues?: readonly Issue[] };
  if (!result.issues) return { success: true, value: result.value };
  return { success: false, issues: result.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
}

function formatPath(path: Issue["path"]): string {
  if (!path || path.length === 0) return "(root)";
  return path.map((p) => String(typeof p === "object" && p !== null ? p.key : p)).join(".");
}
