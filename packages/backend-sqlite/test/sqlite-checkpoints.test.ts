import { existsSync, renameSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "@cairn/backend-interface";
import { SqliteBackend } from "../src/index.js";
import { SqliteCheckpointer } from "../src/sqlite-checkpoints.js";
import { freshBackend, tempDb, tempWalTable } from "./helpers.js";
import { registerManual } from "../../../test-support/register.js";

const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);

/** Counts the times the WAL file shrank between two looks: only a completed checkpoint lets the next write start it over. */
function walRestarts(filename: string): { look: () => void; readonly count: number } {
  let last = 0;
  let count = 0;
  return {
    look: () => {
      const wal = size(`${filename}-wal`);
      if (wal < last) count++;
      last = wal;
    },
    get count() {
      return count;
    },
  };
}

describe("WAL checkpoints", () => {
  it("copies the WAL into the database file off the writing thread, keeping the WAL bounded", async () => {
    const pages = 50; // 200 KiB: crossed after a few dozen commits
    const { backend, filename, dispose } = await freshBackend({ walCheckpointPages: pages });
    try {
      await registerManual(backend, "wf");
      const before = size(filename);
      const restarts = walRestarts(filename);
      for (let i = 0; i < 600; i++) {
        await backend.submitRun({ workflowSlug: "wf", input: { i, pad: "x".repeat(2000) } });
        restarts.look();
      }
      // The writing connection never checkpoints by itself below the backstop (wal_autocheckpoint = 0), so the
      // database file grows only when the checkpoint thread copied pages into it.
      await expect.poll(() => size(filename), { timeout: 10_000, interval: 50 }).toBeGreaterThan(before + 200 * 4096);
      // Bounded: the WAL shrinks only when a checkpoint completed and the next write started it over (truncated by
      // journal_size_limit); without checkpoints it would only grow.
      expect(restarts.count).toBeGreaterThanOrEqual(3);
      expect((await backend.listRuns({ workflowSlug: "wf", limit: 1000 })).length).toBe(600);
    } finally {
      await dispose();
    }
  });

  it("refuses a walCheckpointPages that is not a whole number ≥ 1, before opening anything", () => {
    const { filename, cleanup } = tempDb();
    try {
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        expect(() => new SqliteBackend(filename, { walCheckpointPages: bad })).toThrow(InvalidArgumentError);
      }
      expect(existsSync(filename)).toBe(false);
    } finally {
      cleanup();
    }
  });
});

describe("SqliteCheckpointer", () => {
  it("checkpoints on its thread while the writer goes on, and the WAL starts over", async () => {
    const { db, filename, cleanup } = tempWalTable();
    const checkpoints = new SqliteCheckpointer(db, filename, 50);
    try {
      const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
      const restarts = walRestarts(filename);
      for (let i = 0; i < 400; i++) {
        insert.run("x".repeat(8000));
        checkpoints.afterCommit();
        restarts.look();
        await new Promise((r) => setImmediate(r)); // the writer's event loop turns, as between real commits
      }
      await expect.poll(() => checkpoints.done.thread, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(restarts.count).toBeGreaterThanOrEqual(1);
      expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 400 });
    } finally {
      await checkpoints.close();
      db.close();
      cleanup();
    }
  });

  it("when the thread fails (here it cannot open the file), the writer's backstop checkpoints and the WAL stays bounded", async () => {
    const { db, filename, cleanup } = tempWalTable();
    const pages = 50;
    const checkpoints = new SqliteCheckpointer(db, filename, pages);
    try {
      // The writing connection keeps its open file; the thread, opening the path with fileMustExist, fails.
      renameSync(filename, `${filename}.moved`);
      const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
      let largest = 0;
      for (let i = 0; i < 600; i++) {
        insert.run("x".repeat(8000));
        checkpoints.afterCommit();
        largest = Math.max(largest, size(`${filename}-wal`));
        await new Promise((r) => setImmediate(r));
      }
      expect(checkpoints.done.thread).toBe(0);
      expect(checkpoints.done.writer).toBeGreaterThan(0);
      // 600 rows of 8 KB without any checkpoint would be a WAL of about 5 MB; the backstop holds it near 4x 200 KiB.
      expect(largest).toBeLessThan(6 * pages * 4096);
      expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 600 });
    } finally {
      await checkpoints.close();
      db.close();
      cleanup();
    }
  });
});
