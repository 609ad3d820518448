import { describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { DEFAULT_BUSY_RETRY } from "../src/index.js";
import { SqliteWriteQueue } from "../src/sqlite-write-queue.js";
import { claimMeta, freshBackend, tempWalTable } from "./helpers.js";
import { registerManual } from "../../../test-support/register.js";

describe("group commit", () => {
  it("runs concurrent writes in one transaction, rolling back only the one that throws", async () => {
    const { db, filename, cleanup } = tempWalTable();
    const observer = new Database(filename, { readonly: true });
    try {
      const queue = new SqliteWriteQueue(db, filename, DEFAULT_BUSY_RETRY);
      const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
      const visibleElsewhere = () => (observer.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n;
      const results = await Promise.allSettled([
        queue.run(() => insert.run("a").changes),
        queue.run(() => {
          insert.run("half-written");
          throw new Error("boom");
        }),
        // Still inside the batch's transaction: the first write is not yet committed, so another connection does not see it.
        queue.run(() => {
          insert.run("c");
          return visibleElsewhere();
        }),
      ]);
      expect(results).toEqual([
        { status: "fulfilled", value: 1 },
        { status: "rejected", reason: new Error("boom") },
        { status: "fulfilled", value: 0 },
      ]);
      expect(db.prepare("SELECT v FROM t ORDER BY rowid").all()).toEqual([{ v: "a" }, { v: "c" }]);
      expect(visibleElsewhere()).toBe(2);
    } finally {
      observer.close();
      db.close();
      cleanup();
    }
  });

  it("a lone write that throws leaves nothing behind", async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (v TEXT)");
    const queue = new SqliteWriteQueue(db, ":memory:", DEFAULT_BUSY_RETRY);
    await expect(
      queue.run(() => {
        db.prepare("INSERT INTO t (v) VALUES ('x')").run();
        throw new Error("no");
      }),
    ).rejects.toThrow("no");
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
    db.close();
  });

  it("a batch claim whose dependencies callback throws claims nothing, while concurrent writes commit", async () => {
    const { backend, clock, dispose } = await freshBackend();
    try {
      await registerManual(backend, "wf");
      for (const r of ["r1", "r2"]) {
        await backend.submitRun({ workflowSlug: "wf", runId: r });
        await backend.scheduleStep("wf", r, "s", { availableAt: clock.nowUs(), reason: "initial", attemptNumber: 1 });
      }
      let calls = 0;
      const [claims, started] = await Promise.allSettled([
        backend.claimScheduledSteps("w", {
          limit: 2,
          dependencies: () => {
            if (++calls === 2) throw new Error("callback failed");
            return [];
          },
        }),
        backend.startRun("wf", "r1", { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false }),
      ]);
      expect(claims.status).toBe("rejected");
      expect(started).toEqual({ status: "fulfilled", value: true });
      expect((await backend.loadRun("wf", "r1")).map((s) => s.status)).toEqual(["scheduled"]);
      expect((await backend.loadRun("wf", "r2")).map((s) => s.status)).toEqual(["scheduled"]);
      expect(await backend.claimScheduledStep("wf", "r1", "s", "w", claimMeta)).toEqual({ attemptNumber: 1 });
    } finally {
      await dispose();
    }
  });
});
