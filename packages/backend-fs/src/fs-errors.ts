import { BackendUnavailableError, CairnError, ConfigError } from "@cairn/backend-interface";

/** A Node.js system error with its errno code (`EEXIST`, `ENOENT`, ...). */
export type ErrnoError = NodeJS.ErrnoException & { code: string };

/** True when `err` is a system error with one of the given codes. */
export function isErrno(err: unknown, ...codes: string[]): err is ErrnoError {
  return typeof err === "object" && err !== null && typeof (err as { code?: unknown }).code === "string" && codes.includes((err as { code: string }).code);
}

/** Codes that mean "try again later": out of space, out of descriptors, busy, interrupted I/O. */
const TRANSIENT = ["ENOSPC", "EMFILE", "ENFILE", "EBUSY", "EAGAIN", "EIO", "EDQUOT", "ETIMEDOUT"];
/** Codes that mean the store is misconfigured: permissions, read-only filesystem, a file where a directory belongs. */
const CONFIG = ["EACCES", "EPERM", "EROFS", "ENOTDIR", "EISDIR", "ELOOP", "ENAMETOOLONG"];

/**
 * Translates a native filesystem error at the driver boundary into the interface's typed errors:
 * transient conditions become BackendUnavailableError (retryable), permission and layout problems ConfigError.
 * Cairn errors pass through; anything else is returned unchanged.
 */
export function translateFsError(err: unknown, action: string, path: string): unknown {
  if (err instanceof CairnError) return err;
  if (isErrno(err, ...TRANSIENT)) return new BackendUnavailableError(`Filesystem store: ${action} ${path} failed with ${err.code}.`, err);
  if (isErrno(err, ...CONFIG)) {
    return new ConfigError(`Filesystem store: ${action} ${path} failed with ${err.code}; check the directory's permissions and that it is a writable Cairn store.`, { path, cause: err });
  }
  return err;
}

/** Runs `fn`, translating native errors with translateFsError. */
export async function withFsErrors<T>(action: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translateFsError(err, action, path);
  }
}
