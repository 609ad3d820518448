import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";

const docs = new URL("../../../docs/", import.meta.url);

it("docs/testing.md shows the example test and its step exactly as they are in docs/testing/", async () => {
  const md = await readFile(new URL("testing.md", docs), "utf8");
  for (const file of ["testing/order.test.ts", "testing/workflows/order/steps/charge.ts"]) {
    expect(md).toContain("```ts\n" + (await readFile(new URL(file, docs), "utf8")) + "```");
  }
});
