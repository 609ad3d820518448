import { expect } from "vitest";

/** Awaits `action` and asserts it fails with a Cairn error of `code` (or one of several); returns the error. */
export async function expectCode(
  action: Promise<unknown> | (() => unknown),
  code: string | string[],
  label?: string,
): Promise<Error & { code: string }> {
  const codes = Array.isArray(code) ? code : [code];
  let error: unknown;
  let threw = false;
  try {
    await (typeof action === "function" ? action() : action);
  } catch (e) {
    threw = true;
    error = e;
  }
  const what = label ? `${label}: ` : "";
  expect(threw, `${what}expected a ${codes.join(" or ")} error, but the call succeeded`).toBe(true);
  expect(codes, `${what}expected code ${codes.join(" or ")}, got ${String(error)}`).toContain(
    (error as { code?: unknown })?.code,
  );
  return error as Error & { code: string };
}
