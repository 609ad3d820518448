import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCairnError } from "@cairn/backend-interface";
import { FileSystemBackend } from "../src/index.js";
import { translateFsError } from "../src/fs-errors.js";
import { readOnlyDir } from "../../../test-support/read-only-dir.js";

/** A native error as node:fs raises it. */
const errno = (code: string, syscall: string, path: string) =>
  Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });

describe("filesystem store paths that cannot be written", () => {
  let tmp = "";
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "cairn-fs-unwritable-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("on a read-only filesystem: STORE_NOT_WRITABLE naming the read-only directory, not mkdir's ENOENT", async (ctx) => {
    const ro = await readOnlyDir();
    if (ro.dir === null) {
      ctx.skip();
      return;
    }
    try {
      const err = await new FileSystemBackend(join(ro.dir, "store", "deeper")).initialize().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isCairnError(err, "STORE_NOT_WRITABLE"), String(err)).toBe(true);
      expect((err as Error).message).toContain(`${ro.dir} is on a read-only filesystem`);
      expect((err as Error).message).toContain(join(ro.dir, "store", "deeper"));
    } finally {
      await ro.release();
    }
  });

  it("under a regular file: CONFIG_ERROR saying that file is not a directory", async () => {
    const file = join(tmp, "file");
    await writeFile(file, "x");
    for (const dir of [join(file, "store"), file]) {
      const err = await new FileSystemBackend(dir).initialize().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isCairnError(err, "CONFIG_ERROR"), String(err)).toBe(true);
      expect((err as Error).message).toContain(`${file} is a file, not a directory`);
    }
  });

  it("maps EACCES, EPERM and EROFS to STORE_NOT_WRITABLE with the path, keeping the original as cause", () => {
    for (const code of ["EACCES", "EPERM", "EROFS"]) {
      const native = errno(code, "open", join(tmp, "runs", "x.json"));
      const err = translateFsError(native, "writing", tmp);
      expect(isCairnError(err, "STORE_NOT_WRITABLE"), code).toBe(true);
      expect((err as Error).message).toContain(tmp);
      expect((err as Error).cause).toBe(native);
    }
    const missing = errno("ENOENT", "open", join(tmp, "nope"));
    expect(translateFsError(missing, "reading", tmp)).toBe(missing); // a plain missing file stays what it is
  });
});
