import { InvalidArgumentError } from "./errors.js";

/** Longest accepted tenant id. */
export const MAX_TENANT_ID_LENGTH = 128;

const TENANT_ID = /^[A-Za-z0-9_.-]+$/;

/**
 * Throws InvalidArgumentError (code INVALID_ARGUMENT) unless `value` is a valid tenant id: a non-empty string of
 * letters, digits, '-', '_' and '.', not `.` or `..`, at most MAX_TENANT_ID_LENGTH characters. The message names
 * `field` (default `tenantId`). Called before any I/O, so a bad tenant id writes nothing.
 */
export function assertTenantId(value: unknown, field = "tenantId"): asserts value is string {
  const bad = (reason: string): never => {
    throw new InvalidArgumentError(
      `Invalid ${field} ${JSON.stringify(String(value)).slice(0, 120)}: ${reason}. Use an identifier such as "acme-corp". Nothing was written.`,
      { field, value: String(value).slice(0, 200) },
    );
  };
  if (typeof value !== "string") bad("must be a string");
  const s = value as string;
  if (s.length === 0) bad("must not be empty");
  if (s.length > MAX_TENANT_ID_LENGTH) bad(`longer than ${MAX_TENANT_ID_LENGTH} characters`);
  if (s === "." || s === "..") bad(`"${s}" is not allowed`);
  if (!TENANT_ID.test(s)) bad("only letters, digits, '-', '_' and '.' are allowed");
}

/**
 * The idempotency key a tenant's submission is stored under: keys are scoped per tenant (as they are per workflow),
 * so one tenant reusing another's key gets its own run, never the other tenant's run id.
 */
export function tenantIdempotencyKey(tenantId: string, key: string): string {
  return `tenant:${tenantId}/${key}`;
}
