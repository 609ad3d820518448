import { describe, expect, it } from "vitest";
import { canonicalJson, sameJsonText, serializeValue } from "../src/index.js";

describe("canonical JSON", () => {
  it("sorts object keys at every depth and keeps array order", () => {
    expect(canonicalJson({ b: 2, a: { d: [3, { z: 1, y: 0 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":0,"z":1}]},"b":2}',
    );
    expect(canonicalJson([2, 1])).toBe("[2,1]");
    expect(canonicalJson("x")).toBe('"x"');
    expect(canonicalJson(JSON.parse('{"__proto__":1,"a":2}'))).toBe('{"__proto__":1,"a":2}');
  });

  it("treats texts of one value as the same, whatever their key order or whitespace", () => {
    expect(sameJsonText('{"a":1,"b":2}', '{"b":2,"a":1}')).toBe(true);
    expect(sameJsonText(serializeValue({ a: 1, b: [1, 2] }), '{ "b": [1, 2], "a": 1.0 }')).toBe(true);
    expect(sameJsonText(undefined, undefined)).toBe(true);
  });

  it("tells different values apart: array order, values, missing keys, null versus no value, invalid text", () => {
    expect(sameJsonText("[1,2]", "[2,1]")).toBe(false);
    expect(sameJsonText('{"a":1}', '{"a":"1"}')).toBe(false);
    expect(sameJsonText('{"a":1,"b":null}', '{"a":1}')).toBe(false);
    expect(sameJsonText("null", undefined)).toBe(false);
    expect(sameJsonText("{oops", "{oops")).toBe(true);
    expect(sameJsonText("{oops", "{ oops")).toBe(false);
  });
});
