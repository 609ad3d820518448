import { describe, expect, it } from "vitest";
import {
  computeErrorFingerprints,
  fingerprintFor,
  normalizeErrorMessage,
  parseStackFrames,
  portableLocations,
  stripLineNumbers,
  MAX_FRAMES,
} from "../src/fingerprint.js";
import { ErrorFingerprintsSchema } from "../src/schemas.js";

const v8 = (header: string, ...frames: string[]) => [header, ...frames.map((f) => `    at ${f}`)].join("\n");
const fp = (error: { name?: string; message: string; stack?: string }) => computeErrorFingerprints(error);
const all = (error: { name?: string; message: string; stack?: string }) => {
  const f = fp(error);
  return {
    exact: fingerprintFor(f, "exact"),
    normalized: fingerprintFor(f, "normalized"),
    portable: fingerprintFor(f, "portable"),
  };
};

describe("parseStackFrames", () => {
  it("parses V8 frames with and without parentheses, async, new, eval and native frames", () => {
    const stack = v8(
      "TypeError: cannot read x of undefined",
      "fetchUser (/home/a/p/src/users.js:10:5)",
      "/home/a/p/src/main.js:3:1",
      "async Promise.all (index 0)",
      "async loadAll (file:///home/a/p/src/load.mjs:7:9)",
      "new Store (/home/a/p/src/store.js:1:1)",
      "eval (eval at compile (/home/a/p/src/c.js:2:3), <anonymous>:1:1)",
      "Array.map (<anonymous>)",
      "async /home/a/p/src/top.mjs:4:4",
    );
    expect(parseStackFrames(stack).map((f) => [f.fn, f.location])).toEqual([
      ["fetchUser", "/home/a/p/src/users.js:10:5"],
      ["", "/home/a/p/src/main.js:3:1"],
      ["Promise.all", "index 0"],
      ["loadAll", "file:///home/a/p/src/load.mjs:7:9"],
      ["new Store", "/home/a/p/src/store.js:1:1"],
      ["eval", "eval at compile (/home/a/p/src/c.js:2:3), <anonymous>:1:1"],
      ["Array.map", "<anonymous>"],
      ["", "/home/a/p/src/top.mjs:4:4"],
    ]);
  });

  it("parses Firefox and Safari frames", () => {
    const ff =
      "fetchUser@https://app.example/js/users.js:10:5\n@https://app.example/js/main.js:3:1\nfn/<@https://app.example/js/x.js:1:2\n";
    expect(parseStackFrames(ff).map((f) => [f.fn, f.location])).toEqual([
      ["fetchUser", "https://app.example/js/users.js:10:5"],
      ["", "https://app.example/js/main.js:3:1"],
      ["fn/<", "https://app.example/js/x.js:1:2"],
    ]);
    const safari = "global code@file:///Users/x/app/main.js:4:12\nforEach@[native code]";
    expect(parseStackFrames(safari).map((f) => [f.fn, f.location])).toEqual([
      ["global code", "file:///Users/x/app/main.js:4:12"],
      ["forEach", "[native code]"],
    ]);
  });

  it("never takes the header or message lines of a V8 stack for frames, even with @ in them", () => {
    const stack = v8(
      "Error: mail to bob@example.com:25 failed\nsecond line fn@x.js:1:2",
      "send (/srv/app/mail.js:1:1)",
    );
    expect(parseStackFrames(stack).map((f) => f.fn)).toEqual(["send"]);
    expect(parseStackFrames("Error: no frames here")).toEqual([]);
    expect(parseStackFrames(undefined)).toEqual([]);
  });
});

describe("location helpers", () => {
  it("strips line and column numbers, including inside eval locations, but not ports", () => {
    expect(stripLineNumbers("/a/b.js:10:5")).toBe("/a/b.js");
    expect(stripLineNumbers("C:\\p\\b.js:10")).toBe("C:\\p\\b.js");
    expect(stripLineNumbers("http://localhost:3000/x.js:1:2")).toBe("http://localhost:3000/x.js");
    expect(stripLineNumbers("eval at f (/a.js:2:3), <anonymous>:1:1")).toBe("eval at f (/a.js), <anonymous>");
  });

  it("removes machine-specific prefixes", () => {
    expect(portableLocations(["/home/alice/proj/src/a.js", "/home/alice/proj/src/lib/b.js"])).toEqual([
      "a.js",
      "lib/b.js",
    ]);
    expect(
      portableLocations(["C:\\Users\\bob\\work\\proj\\src\\a.js", "C:\\Users\\bob\\work\\proj\\src\\lib\\b.js"]),
    ).toEqual(["a.js", "lib/b.js"]);
    expect(portableLocations(["file:///C:/x/src/a.js", "file:///C:/x/src/lib/b.js"])).toEqual(["a.js", "lib/b.js"]);
    expect(portableLocations(["/srv/app/node_modules/.pnpm/pg@8.1.0/node_modules/pg/lib/client.js"])).toEqual([
      "node_modules/pg/lib/client.js",
    ]);
    expect(portableLocations(["node:internal/process/task_queues", "<anonymous>", "[native code]"])).toEqual([
      "node:internal/process/task_queues",
      "<anonymous>",
      "[native code]",
    ]);
    expect(
      portableLocations(["https://cdn.example:8443/js/app.js?v=123", "https://cdn.example:8443/js/lib/x.js#h"]),
    ).toEqual(["app.js", "lib/x.js"]);
    expect(portableLocations(["/Users/John Smith/p/src/a.js", "/Users/John Smith/p/src/b/c.js"])).toEqual([
      "a.js",
      "b/c.js",
    ]);
  });
});

describe("normalizeErrorMessage", () => {
  it("replaces volatile parts and keeps codes", () => {
    expect(normalizeErrorMessage("Order 12345 not found")).toBe("Order <n> not found");
    expect(normalizeErrorMessage("timeout of 5000ms exceeded after 2.5 s")).toBe(
      "timeout of <n>ms exceeded after <n> s",
    );
    expect(normalizeErrorMessage("user 3f2b8c1e-9a4d-4e6f-b123-0123456789ab missing")).toBe("user <uuid> missing");
    expect(normalizeErrorMessage("object 507f1f77bcf86cd799439011 at 0x7ffd1234")).toBe("object <hex> at <hex>");
    expect(normalizeErrorMessage("expired at 2026-01-01T10:00:00.123Z (2026-01-02)")).toBe("expired at <ts> (<ts>)");
    expect(normalizeErrorMessage("ENOENT: no such file or directory, open '/tmp/abc123/x.json'")).toBe(
      "ENOENT: no such file or directory, open '<path>'",
    );
    expect(normalizeErrorMessage("Cannot find module /home/u/p/dist/x.js")).toBe("Cannot find module <path>");
    expect(normalizeErrorMessage("E11000 duplicate key, utf8 v2 ERR_HTTP2_x run_abc")).toBe(
      "E11000 duplicate key, utf8 v2 ERR_HTTP2_x run_abc",
    );
    expect(normalizeErrorMessage("  a \n\t b  ")).toBe("a b");
    expect(normalizeErrorMessage("deadbeef facade")).toBe("deadbeef facade"); // words of hex letters only are not ids
  });
});

describe("computeErrorFingerprints / fingerprintFor", () => {
  const stackAt = (root: string, line = 10) =>
    v8(
      "Error: boom",
      `handler (${root}/src/handler.js:${line}:5)`,
      `run (${root}/src/lib/run.js:3:1)`,
      `Module._compile (node:internal/modules/cjs/loader:1256:14)`,
    );

  it("produces schema-valid hashes and the composite format", () => {
    const f = fp({ name: "Error", message: "boom", stack: stackAt("/a") });
    expect(ErrorFingerprintsSchema.parse(f)).toEqual(f);
    expect(fingerprintFor(f, "exact")).toBe(`${f.nameHash}:${f.messageHash}:${f.stackExactHash}`);
    expect(fingerprintFor(f, "normalized")).toBe(`${f.nameHash}:${f.messageNormalizedHash}:${f.stackNormalizedHash}`);
    expect(fingerprintFor(f, "portable")).toBe(`${f.nameHash}:${f.messageNormalizedHash}:${f.stackPortableHash}`);
    for (const v of Object.values(f)) expect(v).toMatch(/^[0-9a-f]{16}$/);
  });

  it("exact splits on a line change, normalized does not", () => {
    const a = all({ message: "boom", stack: stackAt("/a", 10) });
    const b = all({ message: "boom", stack: stackAt("/a", 11) });
    expect(a.exact).not.toBe(b.exact);
    expect(a.normalized).toBe(b.normalized);
    expect(a.portable).toBe(b.portable);
  });

  it("portable groups the same bug on two machines (Linux home, server, Windows, file URLs); normalized does not", () => {
    const linux = all({ message: "boom", stack: stackAt("/home/alice/code/proj") });
    const server = all({ message: "boom", stack: stackAt("/srv/app") });
    const windows = all({
      message: "boom",
      stack: stackAt("C:\\Users\\bob\\proj")
        .replace(/\/src\//g, "\\src\\")
        .replace("\\src\\lib/", "\\src\\lib\\"),
    });
    const fileUrl = all({ message: "boom", stack: stackAt("file:///opt/build") });
    expect(linux.normalized).not.toBe(server.normalized);
    expect(linux.portable).toBe(server.portable);
    expect(linux.portable).toBe(windows.portable);
    expect(linux.portable).toBe(fileUrl.portable);
  });

  it("portable groups node_modules frames across package managers and install roots", () => {
    const npm = all({
      message: "x",
      stack: v8(
        "Error: x",
        "Client.query (/home/a/p/node_modules/pg/lib/client.js:5:1)",
        "main (/home/a/p/src/main.js:1:1)",
      ),
    });
    const pnpm = all({
      message: "x",
      stack: v8(
        "Error: x",
        "Client.query (/srv/b/node_modules/.pnpm/pg@8.11.0/node_modules/pg/lib/client.js:9:9)",
        "main (/srv/b/src/main.js:2:2)",
      ),
    });
    expect(npm.portable).toBe(pnpm.portable);
    expect(npm.normalized).not.toBe(pnpm.normalized);
  });

  it("different functions or files still split under every strategy", () => {
    const a = all({ message: "boom", stack: stackAt("/a") });
    const b = all({ message: "boom", stack: stackAt("/a").replace("handler (", "otherHandler (") });
    const c = all({ message: "boom", stack: stackAt("/a").replace("handler.js", "other.js") });
    for (const k of ["exact", "normalized", "portable"] as const) {
      expect(a[k]).not.toBe(b[k]);
      expect(a[k]).not.toBe(c[k]);
    }
  });

  it("volatile message parts split exact groups only", () => {
    const a = all({
      message: "Order 17 of user 3f2b8c1e-9a4d-4e6f-b123-0123456789ab failed at 2026-01-01T00:00:00Z",
      stack: stackAt("/a"),
    });
    const b = all({
      message: "Order 942 of user 00000000-1111-4222-8333-444444444444 failed at 2026-03-05T11:12:13Z",
      stack: stackAt("/a"),
    });
    expect(a.exact).not.toBe(b.exact);
    expect(a.normalized).toBe(b.normalized);
    expect(a.portable).toBe(b.portable);
    const c = all({ message: "Order 17 was cancelled", stack: stackAt("/a") });
    expect(a.normalized).not.toBe(c.normalized);
  });

  it("only the top frames count", () => {
    const frames = Array.from({ length: MAX_FRAMES }, (_, i) => `f${i} (/a/f${i}.js:1:1)`);
    const a = fp({ message: "m", stack: v8("Error: m", ...frames, "deep1 (/a/deep.js:1:1)") });
    const b = fp({ message: "m", stack: v8("Error: m", ...frames, "deep2 (/a/other.js:9:9)") });
    expect(a.stackExactHash).toBe(b.stackExactHash);
    const c = fp({ message: "m", stack: v8("Error: m", ...frames.slice(0, -1), "changed (/a/x.js:1:1)") });
    expect(a.stackExactHash).not.toBe(c.stackExactHash);
  });

  it("the header line does not enter the stack hash", () => {
    const a = fp({ message: "m1", stack: v8("Error: m1", "f (/a/f.js:1:1)") });
    const b = fp({ message: "m2", stack: v8("Error: m2", "f (/a/f.js:1:1)") });
    expect(a.stackExactHash).toBe(b.stackExactHash);
  });

  it("stackless errors do not collide across names or messages, and group with themselves", () => {
    const a = all({ name: "TypeError", message: "bad" });
    const b = all({ name: "RangeError", message: "bad" });
    const c = all({ name: "TypeError", message: "worse" });
    const a2 = all({ name: "TypeError", message: "bad", stack: "TypeError: bad" }); // a header but no frames = stackless
    for (const k of ["exact", "normalized", "portable"] as const) {
      expect(new Set([a[k], b[k], c[k]]).size).toBe(3);
      expect(a2[k]).toBe(a[k]);
    }
    expect(fp({ name: "TypeError", message: "bad" }).stackExactHash).not.toBe(
      fp({ name: "RangeError", message: "bad" }).stackExactHash,
    );
    expect(all({ message: "id 1" }).normalized).toBe(all({ message: "id 2" }).normalized);
    expect(fp({ message: "x" }).nameHash).toBe(fp({ name: "Error", message: "x" }).nameHash);
  });

  it("V8 and Firefox frames of the same functions normalize alike", () => {
    const a = fp({ message: "m", stack: v8("Error: m", "f (/a/f.js:1:1)", "g (/a/g.js:2:2)") });
    const b = fp({ message: "m", stack: "f@/a/f.js:5:5\ng@/a/g.js:6:6" });
    expect(a.stackNormalizedHash).toBe(b.stackNormalizedHash);
  });

  it("falls back to messageHash for fingerprints stored without messageNormalizedHash", () => {
    const { messageNormalizedHash: _drop, ...old } = fp({ message: "m", stack: stackAt("/a") });
    expect(fingerprintFor(old, "normalized")).toBe(`${old.nameHash}:${old.messageHash}:${old.stackNormalizedHash}`);
  });
});
