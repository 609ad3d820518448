import { dirname } from "node:path";
import {
  BackendUnavailableError,
  CairnError,
  ConfigError,
  StoreNotWritableError,
  pathProblem,
} from "@cairn/backend-interface";

/** A Node.js system error with its errno code (`EEXIST`, `ENOENT`, ...). */
export type ErrnoError = NodeJS.ErrnoException & { code: string };

/** True when `err` is a system error with one of the given codes. */
export function isErrno(err: unknown, ...codes: string[]): err is ErrnoError {
  return (
    typeof err === "object" &&
    err !== null &&
    typeof (err as { code?: unknown }).code === "string" &&
    codes.includes((err as { code: string }).code)
  );
}

/** Codes that mean "try again later": out of space, out of descriptors, busy, interrupted I/O. */
const TRANSIENT = ["ENOSPC", "EMFILE", "ENFILE", "EBUSY", "EAGAIN", "EIO", "EDQUOT", "ETIMEDOUT"];
/** Codes that mean the store cannot be written: permissions, read-only filesystem, immutable directory. */
const NOT_WRITABLE = ["EACCES", "EPERM", "EROFS"];
/** Codes that mean the store is misconfigured: a file where a directory belongs, and the like. */
const CONFIG = ["ENOTDIR", "EISDIR", "ELOOP", "ENAMETOOLONG"];

/**
 * Translates a native filesystem error at the driver boundary into the interface's typed errors:
 * transient conditions become BackendUnavailableError (retryable), a path that cannot be written StoreNotWritableError,
 * layout problems ConfigError. Cairn errors pass through; anything else is returned unchanged.
 */
export function translateFsError(err: unknown, action: string, path: string): unknown {
  if (err instanceof CairnError) return err;
  if (isErrno(err, ...TRANSIENT))
    return new BackendUnavailableError(`Filesystem store: ${action} ${path} failed with ${err.code}.`, err);
  const errPath = (err as { path?: unknown } | null)?.path;
  const target = typeof errPath === "string" ? errPath : path;
  if (isErrno(err, ...NOT_WRITABLE)) {
    const dir = err.syscall === "mkdir" ? target : dirname(target);
    return new StoreNotWritableError(
      path,
      pathProblem(dir)?.message ?? `${action} ${target} failed with ${err.code}`,
      err,
    );
  }
  // mkdir -p on a read-only filesystem fails with ENOENT for a parent that exists, on a file with EEXIST: find out
  // what is really wrong.
  const problem =
    (isErrno(err, "ENOENT", "EEXIST") && err.syscall === "mkdir") || isErrno(err, ...CONFIG)
      ? pathProblem(target)
      : undefined;
  if (problem?.kind === "not-a-directory")
    return new ConfigError(`Filesystem store: cannot use ${path}: ${problem.message}.`, { path, cause: err });
  if (problem) return new StoreNotWritableError(path, problem.message, err);
  if (isErrno(err, ...CONFIG)) {
    return new ConfigError(
      `Filesystem store: ${action} ${path} failed with ${err.code}; check that it is a directory and a Cairn store.`,
      { path, cause: err },
    );
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
