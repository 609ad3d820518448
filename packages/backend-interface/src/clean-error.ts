import type { StepError } from "./schemas.js";

/** Keeps only the documented fields of an error (no extra enumerable properties of the caller's Error). */
export function cleanError(error: StepError): StepError {
  if (error === null || typeof error !== "object") return { message: String(error) };
  const message = typeof error.message === "string" ? error.message : String(error.message);
  return {
    message,
    ...(typeof error.name === "string" ? { name: error.name } : {}),
    ...(typeof error.stack === "string" ? { stack: error.stack } : {}),
  };
}
