// Type-level tests: `npm run typecheck` fails if the client stops checking inputs against a declaration's schema
// (each @ts-expect-error must meet an error). The functions are never called; vitest only sees that they exist.
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { defineWorkflow } from "@cairn/worker";
import type { CairnClient, ClientRun, SubmitInput, SubmitItem, SubmittedRun } from "../src/index.js";
import helloWorkflow from "../../../examples/workflows/hello/workflow.js";

const noSchema = defineWorkflow({ name: "No schema" });
const transformed = defineWorkflow({
  name: "Transformed",
  input: z.object({ at: z.string().transform((s) => new Date(s)) }),
});

function submitChecks(client: CairnClient): void {
  void client.submit(helloWorkflow, { name: "Ada" });
  void client.submit(helloWorkflow, { name: "Ada", excited: true }, { priority: 1, tags: ["a"] });
  // @ts-expect-error the declaration's schema needs `name`
  void client.submit(helloWorkflow, {});
  // @ts-expect-error `name` is a string
  void client.submit(helloWorkflow, { name: 1 });
  // @ts-expect-error a workflow with a schema takes its input
  void client.submit(helloWorkflow);
  // @ts-expect-error no such field in the schema
  void client.submit(helloWorkflow, { name: "Ada", nickname: "A" });
  // A slug or a workflow without a schema takes any input, or none.
  void client.submit("hello", { anything: true });
  void client.submit("hello");
  void client.submit(noSchema);
  void client.submit(noSchema, [1, 2, 3]);
  // The schema's input side, before its transforms: a string, not a Date.
  void client.submit(transformed, { at: "2026-01-01" });
  // @ts-expect-error the input is what the schema accepts, not what it produces
  void client.submit(transformed, { at: new Date() });
  void client.submitMany([
    { workflow: helloWorkflow, input: { name: "Ada" } },
    { workflow: helloWorkflow, input: { name: "Bo" } },
  ]);
  void client.submitMany([
    { workflow: helloWorkflow, input: { name: "Ada" } },
    { workflow: "hello", input: 7 },
    { workflow: noSchema },
  ]);
  // @ts-expect-error each item's input is checked against its workflow
  void client.submitMany([{ workflow: "hello" }, { workflow: helloWorkflow, input: { name: 1 } }]);
  const built: SubmitItem[] = [{ workflow: "hello", input: { name: "Ada" } }];
  void client.submitMany(built);
}

describe("client types", () => {
  it("infer a submission's input from the declaration's schema", () => {
    expectTypeOf(submitChecks).toBeFunction();
    expectTypeOf<SubmitInput<typeof helloWorkflow>>().toEqualTypeOf<{ name: string; excited?: boolean | undefined }>();
    expectTypeOf<SubmitInput<typeof noSchema>>().toEqualTypeOf<unknown>();
    expectTypeOf<SubmitInput<"hello">>().toEqualTypeOf<unknown>();
    expectTypeOf<CairnClient["submit"]>().returns.resolves.toEqualTypeOf<SubmittedRun>();
    expectTypeOf<ClientRun["output"]>().toEqualTypeOf<unknown>();
  });
});
