import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCairnError } from "@cairn/backend-interface";
import { SqliteBackend } from "../src/index.js";
import { readOnlyDir } from "../../../test-support/read-only-dir.js";

describe("SQLite database paths that cannot be written", () => {
  let tmp = "";
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "cairn-sqlite-unwritable-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("in a directory on a read-only filesystem: STORE_NOT_WRITABLE naming it, not 'unable to open database file'", async (ctx) => {
    const ro = await readOnlyDir();
    if (ro.dir === null) {
      ctx.skip();
      return;
    }
    try {
      for (const filename of [join(ro.dir, "cairn.db"), join(ro.dir, "missing", "cairn.db")]) {
        const err = await new SqliteBackend(filename).initialize().then(
          () => null,
          (e: unknown) => e,
        );
        expect(isCairnError(err, "STORE_NOT_WRITABLE"), String(err)).toBe(true);
        expect((err as Error).message).toContain(`${ro.dir} is on a read-only filesystem`);
        expect((err as Error).message).toContain(filename);
      }
    } finally {
      await ro.release();
    }
  });

  it("under a regular file: CONFIG_ERROR saying that file is not a directory", async () => {
    const file = join(tmp, "file");
    await writeFile(file, "x");
    const err = await new SqliteBackend(join(file, "cairn.db")).initialize().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isCairnError(err, "CONFIG_ERROR"), String(err)).toBe(true);
    expect((err as Error).message).toContain(`${file} is a file, not a directory`);
  });
});
