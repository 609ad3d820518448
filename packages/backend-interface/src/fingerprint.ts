// PLACEHOLDER: the analytics helper replaces this file with the real fingerprinting.
import { createHash } from "node:crypto";
import type { ErrorFingerprints, StepError } from "./schemas.js";
const h = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);
/** Computes the five hashes of an error. */
export function computeErrorFingerprints(error: StepError): ErrorFingerprints {
  const stack = error.stack ?? "";
  return { nameHash: h(error.name ?? "Error"), messageHash: h(error.message), stackExactHash: h(stack), stackNormalizedHash: h(stack), stackPortableHash: h(stack) };
}
