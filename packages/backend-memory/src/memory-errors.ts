import { dirname } from "node:path";
import { CairnError, StoreNotWritableError, pathProblem } from "@cairn/backend-interface";

/**
 * A snapshot file's I/O error as a Cairn error that says what to do: StoreNotWritableError when the path cannot be
 * written (read-only, no permission, a file where a directory should be), else the error as it is.
 */
export function translateSnapshotError(err: unknown, action: "reading" | "writing", path: string): unknown {
  if (err instanceof CairnError) return err;
  const problem = pathProblem(dirname(path));
  if (problem) return new StoreNotWritableError(path, problem.message, err);
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === "EACCES" || code === "EPERM" || code === "EROFS")
    return new StoreNotWritableError(path, `${action} the snapshot failed (${code})`, err);
  return err;
}
