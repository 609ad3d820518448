import type { StepError } from "@cairn/backend-interface";

/** Stack frames shown by default; `--verbose` shows all. */
export const FOLDED_FRAMES = 4;

/**
 * A recorded error for people: `Name: the full message` (every line of it), then its stack frames, folded to the first
 * `frames` (Node's internal frames skipped) with a note of how many were left out (all frames when `frames` is
 * Infinity). The stack's own copy of the message is not repeated.
 */
export function errorText(error: StepError, frames = FOLDED_FRAMES): string {
  const head = `${error.name ?? "Error"}: ${error.message}`;
  const all = stackFrames(error.stack);
  // Node's own frames say little about a step; the folded view skips them (--verbose shows them).
  const shown = (frames === Infinity ? all : all.filter((f) => !/\(node:|^at node:/.test(f))).slice(0, frames);
  const more = all.length - shown.length;
  return [
    head,
    ...shown.map((f) => `    ${f}`),
    ...(more > 0 ? [`    … ${more} more frame${more === 1 ? "" : "s"} (--verbose shows all)`] : []),
  ].join("\n");
}

/** The `at …` lines of a V8 stack, trimmed. */
export function stackFrames(stack: string | undefined): string[] {
  if (!stack) return [];
  return stack
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("at "));
}
