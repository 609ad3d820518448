import { createHash } from "node:crypto";
import { InvalidFeedCursorError } from "./errors.js";

/** Marks a Cairn feed cursor (and its format version), so any other string is refused before it reaches a driver. */
const CURSOR_PREFIX = "cf1_";

/**
 * Wraps a driver's feed position (`<kind>:<n>.<n>…`, see feedPosition) into the opaque cursor the Backend hands out.
 * Cursors are plain ASCII (base64url and a short check, so a mangled cursor is refused rather than read as another
 * position), safe in URLs, shells and JSON.
 */
export function encodeFeedCursor(position: string): string {
  return `${CURSOR_PREFIX}${Buffer.from(position, "utf8").toString("base64url")}.${check(position)}`;
}

function check(position: string): string {
  return createHash("sha256").update(position).digest("base64url").slice(0, 6);
}

/** The driver position inside a cursor from encodeFeedCursor; a typed error for anything else. */
export function decodeFeedCursor(cursor: unknown): string {
  if (typeof cursor !== "string" || !cursor.startsWith(CURSOR_PREFIX))
    throw new InvalidFeedCursorError(String(cursor), "not a Cairn feed cursor");
  const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{6})$/.exec(cursor.slice(CURSOR_PREFIX.length));
  if (!m) throw new InvalidFeedCursorError(cursor, "damaged");
  const position = Buffer.from(m[1]!, "base64url").toString("utf8");
  // Node decodes leniently (stray trailing characters are dropped): only the exact encoding is a cursor.
  if (encodeFeedCursor(position) !== cursor) throw new InvalidFeedCursorError(cursor, "damaged");
  return position;
}

/** A driver's feed position: its kind (one per store format) and integers compared in order (lexicographically). */
export function feedPosition(kind: string, parts: readonly number[]): string {
  return `${kind}:${parts.join(".")}`;
}

/**
 * Parses a position made by feedPosition for this `kind` with `count` parts, each a non-negative safe integer.
 * Throws InvalidFeedCursorError (the Backend puts the caller's cursor into it) for anything else, including a
 * position of another kind of store.
 */
export function parseFeedPosition(position: string, kind: string, count: number): number[] {
  const m = /^([a-z]+):(\d+(?:\.\d+)*)$/.exec(position);
  if (!m) throw new InvalidFeedCursorError(position, "damaged");
  if (m[1] !== kind) throw new InvalidFeedCursorError(position, `a cursor of a "${m[1]}" store, this one is "${kind}"`);
  const parts = m[2]!.split(".").map(Number);
  if (parts.length !== count || parts.some((n) => !Number.isSafeInteger(n)))
    throw new InvalidFeedCursorError(position, "damaged");
  return parts;
}
