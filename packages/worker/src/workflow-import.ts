import { readFile } from "node:fs/promises";
import { register } from "node:module";
import { pathToFileURL } from "node:url";
import { ensureTypeScriptLoader, isTypeScriptFile } from "./typescript-loader.js";

/** Why a workflow or step file did not load: the compiler's or runtime's message, and where when known. */
export interface LoadFailure {
  message: string;
  /** 1-based line and column of a syntax error. */
  line?: number;
  column?: number;
}

let hooksRegistered = false;

/** Loads TypeScript workflow files of packages without a "type" field as ES modules (see workflow-esm-hooks.mjs). */
function registerEsmHooks(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  try {
    register(new URL("./workflow-esm-hooks.mjs", import.meta.url));
  } catch {
    // No module hooks here (another runtime or loader): files load by Node's own rules.
  }
}

/**
 * Imports a workflow or step file; a failure becomes a LoadFailure saying where and what. A TypeScript file first
 * gets the TypeScript loader (tsx, registered once) and the module-format hooks, in that order (hooks registered later
 * run first, so ours see every resolution before tsx does).
 */
export async function importWorkflowFile(
  file: string,
): Promise<{ module: Record<string, unknown> } | { failure: LoadFailure }> {
  if (isTypeScriptFile(file)) {
    await ensureTypeScriptLoader();
    registerEsmHooks();
  }
  try {
    return { module: (await import(pathToFileURL(file).href)) as Record<string, unknown> };
  } catch (err) {
    return { failure: await describeLoadError(err, file) };
  }
}

interface EsbuildMessage {
  text: string;
  location?: { file?: string; line?: number; column?: number; lineText?: string } | null;
}

/**
 * A load error for people: esbuild's syntax errors (from tsx) with the line, column, message and source line rather
 * than the bare "Transform failed with 1 error:"; module-format mistakes with what to change; else the first line.
 */
export async function describeLoadError(err: unknown, file: string): Promise<LoadFailure> {
  const text = err instanceof Error ? err.message : String(err);
  const first = syntaxErrors(err, text);
  if (first.length > 0) {
    const [e] = first;
    const more = first.length > 1 ? ` (and ${first.length - 1} more error${first.length > 2 ? "s" : ""})` : "";
    const lineText =
      e!.lineText ??
      (await readFile(file, "utf8").then(
        (s) => s.split("\n")[e!.line - 1],
        () => undefined,
      ));
    const excerpt = lineText === undefined ? "" : `\n    ${lineText}\n    ${" ".repeat(Math.max(0, e!.column - 1))}^`;
    return { message: `syntax error: ${e!.text}${more}${excerpt}`, line: e!.line, column: e!.column };
  }
  if (
    /Cannot require\(\) ES Module|require\(\) of ES Module|ERR_REQUIRE_ESM|ERR_REQUIRE_CYCLE_MODULE/.test(text) ||
    (err as { code?: unknown })?.code === "ERR_REQUIRE_ESM"
  ) {
    return {
      message: `failed to load: ${text.split("\n")[0]!.replace(/\.$/, "")}. Workflow files are ES modules: set "type": "module" in the package.json nearest to ${file}, or name the files .mts`,
    };
  }
  return { message: `failed to load: ${text.split("\n")[0]}` };
}

/** The syntax errors of an esbuild failure: from its `errors` array, or parsed from its message (the array does not
 * survive the trip from the loader thread). Columns are 1-based. */
function syntaxErrors(
  err: unknown,
  text: string,
): Array<{ text: string; line: number; column: number; lineText?: string }> {
  const errors = (err as { errors?: unknown })?.errors;
  if (Array.isArray(errors) && errors.length > 0) {
    return (errors as EsbuildMessage[])
      .filter((e) => typeof e?.text === "string")
      .map((e) => ({
        text: e.text,
        line: e.location?.line ?? 0,
        column: (e.location?.column ?? 0) + 1,
        ...(e.location?.lineText ? { lineText: e.location.lineText } : {}),
      }));
  }
  if (!/^Transform failed with \d+ errors?:/.test(text)) return [];
  return text.split("\n").flatMap((l) => {
    const m = /^(.*):(\d+):(\d+): ERROR: (.*)$/.exec(l);
    return m ? [{ text: m[4]!, line: Number(m[2]), column: Number(m[3]) + 1 }] : [];
  });
}
