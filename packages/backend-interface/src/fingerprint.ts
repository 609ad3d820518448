import { createHash } from "node:crypto";
import type { ErrorFingerprints, StepError } from "./schemas.js";

/**
 * Error fingerprinting. Computed once when a failure is saved and stored on StepFailed, so grouping never re-hashes.
 *
 * Hashes (each the first 16 hex digits of a SHA-256):
 * - `nameHash`: the error name (`"Error"` when absent).
 * - `messageHash`: the raw message. `messageNormalizedHash`: the message after {@link normalizeErrorMessage}.
 * - `stackExactHash`: the top {@link MAX_FRAMES} frame lines, trimmed, as written.
 * - `stackNormalizedHash`: the same frames as `function@location` with line and column numbers removed, so V8 and
 *   Firefox/Safari frames reduce to one form and an edit elsewhere in a file does not split a group.
 * - `stackPortableHash`: normalized, and machine-specific path prefixes removed (see {@link portableLocations}).
 * A stack without any recognisable frame hashes the error's name and message instead (`<no stack>` variant), so stackless
 * errors of different names or messages never share a stack hash.
 */
export const MAX_FRAMES = 10;

/** How errors are grouped: raw message and exact frames; or volatile message parts and line numbers ignored; or also machine paths. */
export type GroupingStrategy = "exact" | "normalized" | "portable";
/** The three grouping strategies. */
export const GROUPING_STRATEGIES: readonly GroupingStrategy[] = ["exact", "normalized", "portable"];

/** One parsed stack frame. `raw` is the trimmed line; `fn` is "" for anonymous frames. */
export interface StackFrame {
  raw: string;
  fn: string;
  location: string;
}

const hash = (s: string): string => createHash("sha256").update(s).digest("hex").slice(0, 16);

const V8_FRAME = /^\s*at\s+(.*\S)\s*$/;
const AT_FRAME = /^\s*([^@\s]*(?: code)?)@(.+?)\s*$/; // Firefox `fn@file:1:2`, Safari `global code@file:1:2`
const LOCATION_LIKE = /(?::\d+$)|(?:^\[native code\]$)|(?:\/\/)/;

/** Parses the frames of a V8 (`at fn (file:1:2)`, `at file:1:2`) or Firefox/Safari (`fn@file:1:2`) stack; header and message lines are skipped. */
export function parseStackFrames(stack: string | undefined): StackFrame[] {
  if (!stack) return [];
  const lines = stack.split(/\r?\n/);
  const frames: StackFrame[] = [];
  // A V8 stack starts with `Name: message`, which may itself contain `@`; when any `at` frame exists, only `at` lines are frames.
  if (lines.some((l) => V8_FRAME.test(l))) {
    for (const line of lines) {
      const m = V8_FRAME.exec(line);
      if (!m?.[1]) continue;
      let rest = m[1];
      let fn = "";
      const open = rest.indexOf(" (");
      if (open > 0 && rest.endsWith(")")) {
        fn = rest.slice(0, open);
        rest = rest.slice(open + 2, -1);
      }
      rest = rest.replace(/^async\s+/, "");
      frames.push({ raw: line.trim(), fn: fn.replace(/^async\s+/, ""), location: rest });
    }
    return frames;
  }
  for (const line of lines) {
    const m = AT_FRAME.exec(line);
    if (!m || m[2] === undefined || !LOCATION_LIKE.test(m[2])) continue;
    frames.push({ raw: line.trim(), fn: m[1] ?? "", location: m[2] });
  }
  return frames;
}

/** A location without line and column numbers (`file.js:10:5` → `file.js`; also inside eval locations). */
export function stripLineNumbers(location: string): string {
  return location.replace(/(?::\d+)+(?=[),]|$)/g, "");
}

function cleanPath(token: string): string {
  let p = token.replace(/\\/g, "/");
  p = p.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, ""); // file://, http://host:port, webpack://project
  p = p.replace(/[?#].*$/, ""); // cache-busting query strings and hashes
  const nm = p.lastIndexOf("node_modules/");
  if (nm >= 0) return p.slice(nm);
  return p.replace(/^\/?[A-Za-z]:\//, "/"); // drive letters
}

const isPathToken = (t: string): boolean => t.includes("/") || t.includes("\\");

/**
 * Machine-independent versions of the (line-stripped) locations of one stack. Every path-like token is cleaned: backslashes
 * become `/`; URL schemes and hosts (`file://`, `http://host:port`, `webpack://x`), query strings and drive letters go;
 * a path inside `node_modules` keeps only `node_modules/<package path>` (after the last `node_modules/`, so pnpm's nested
 * store paths agree with npm's). The remaining absolute paths are made relative to their longest common directory
 * within the stack, which removes the project root, home directory and checkout location without configuration: the
 * same bug has the same frames, hence the same relative paths, on every machine. Node internals (`node:internal/...`)
 * stay as they are.
 */
export function portableLocations(locations: readonly string[]): string[] {
  // Only eval locations (`eval at f (/a.js), <anonymous>`) hold several paths; elsewhere the whole location is one path, spaces and all.
  const split = locations.map((loc) =>
    (loc.includes("(") ? loc.split(/([\s(),]+)/) : [loc]).map((t) => (isPathToken(t) ? cleanPath(t) : t)),
  );
  const absolute = split.flat().filter((t) => t.startsWith("/"));
  const root = commonDirectory(absolute);
  return split.map((tokens) =>
    tokens.map((t) => (t.startsWith("/") && root !== null ? t.slice(root.length) : t)).join(""),
  );
}

function commonDirectory(paths: readonly string[]): string | null {
  if (paths.length === 0) return null;
  let common = (paths[0] ?? "").split("/").slice(0, -1);
  for (const p of paths.slice(1)) {
    const dirs = p.split("/").slice(0, -1);
    let i = 0;
    while (i < common.length && i < dirs.length && common[i] === dirs[i]) i++;
    common = common.slice(0, i);
  }
  return `${common.join("/")}/`;
}

const ISO_TIMESTAMP = /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/gi;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const QUOTED_PATH = /(["'`])(?:[A-Za-z]:)?[^"'`\s]*[\\/][^"'`]*\1/g;
const BARE_PATH = /(?<![\w.:/\\])(?:[A-Za-z]:)?[\\/](?:[^\s"'`()\\/,;]+[\\/])+[^\s"'`(),;:]*/g;
const HEX_0X = /\b0x[0-9a-f]+\b/gi;
const HEX_ID = /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi;
const NUMBER = /(?<![A-Za-z0-9_])\d+(?:\.\d+)?/g;

/**
 * The message with its volatile parts replaced, applied in this order: ISO dates/timestamps → `<ts>`, UUIDs → `<uuid>`,
 * quoted strings that contain a path separator → `<path>` (quotes kept), unquoted absolute paths of two or more segments →
 * `<path>`, `0x…` and bare hex ids (8+ hex digits with at least one digit and one letter) → `<hex>`, numbers not glued to
 * a preceding letter, digit or `_` (so `E11000`, `utf8`, `v2` stay) → `<n>`. Whitespace runs become one space; trimmed.
 */
export function normalizeErrorMessage(message: string): string {
  return message
    .replace(ISO_TIMESTAMP, "<ts>")
    .replace(UUID, "<uuid>")
    .replace(QUOTED_PATH, (_m, q: string) => `${q}<path>${q}`)
    .replace(BARE_PATH, "<path>")
    .replace(HEX_0X, "<hex>")
    .replace(HEX_ID, "<hex>")
    .replace(NUMBER, "<n>")
    .replace(/\s+/g, " ")
    .trim();
}

/** Computes the fingerprint hashes of an error (see the module comment for what each covers). */
export function computeErrorFingerprints(error: StepError): ErrorFingerprints {
  const name = error.name ?? "Error";
  const normalizedMessage = normalizeErrorMessage(error.message);
  const frames = parseStackFrames(error.stack).slice(0, MAX_FRAMES);
  const noStack = (message: string): string => hash(`<no stack>\n${name}\n${message}`);
  if (frames.length === 0) {
    return {
      nameHash: hash(name),
      messageHash: hash(error.message),
      messageNormalizedHash: hash(normalizedMessage),
      stackExactHash: noStack(error.message),
      stackNormalizedHash: noStack(normalizedMessage),
      stackPortableHash: noStack(normalizedMessage),
    };
  }
  const normalized = frames.map((f) => stripLineNumbers(f.location));
  const portable = portableLocations(normalized);
  return {
    nameHash: hash(name),
    messageHash: hash(error.message),
    messageNormalizedHash: hash(normalizedMessage),
    stackExactHash: hash(frames.map((f) => f.raw).join("\n")),
    stackNormalizedHash: hash(frames.map((f, i) => `${f.fn}@${normalized[i]}`).join("\n")),
    stackPortableHash: hash(frames.map((f, i) => `${f.fn}@${portable[i]}`).join("\n")),
  };
}

/**
 * The composite fingerprint `nameHash:messageHash:stackHash` of a strategy. `exact` uses the raw message hash and the exact
 * stack hash; `normalized` and `portable` use `messageNormalizedHash` (falling back to `messageHash` for events stored
 * before it existed; SQL: `COALESCE(messageNormalizedHash, messageHash)`) and their stack hash.
 */
export function fingerprintFor(fps: ErrorFingerprints, strategy: GroupingStrategy): string {
  if (strategy === "exact") return `${fps.nameHash}:${fps.messageHash}:${fps.stackExactHash}`;
  const message = fps.messageNormalizedHash ?? fps.messageHash;
  return `${fps.nameHash}:${message}:${strategy === "normalized" ? fps.stackNormalizedHash : fps.stackPortableHash}`;
}
