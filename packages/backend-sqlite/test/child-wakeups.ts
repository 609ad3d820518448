// A child process for the wake-up tests. Usage: node --import tsx child-wakeups.ts <filename> <mode>
//  writer: prints "ready", then for every "submit" line on stdin submits a run and prints "done"; exits on EOF.
//  linger: subscribes, submits, waits for its own wake-up, prints "heard", then simply returns (nothing closed):
//          the process must still exit by itself. close: the same, but closes the backend first.
import { createInterface } from "node:readline";
import { openBackend } from "../src/open-backend.js";

const [filename, mode] = process.argv.slice(2) as [string, "writer" | "linger" | "close"];
const backend = await openBackend({ filename });
if (mode === "writer") {
  process.stdout.write("ready\n");
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== "submit") continue;
    await backend.submitRun({ workflowSlug: "wf", input: {} });
    process.stdout.write("done\n");
  }
  await backend.close();
} else {
  const heard = new Promise<void>((resolve) => backend.subscribe(resolve));
  await backend.submitRun({ workflowSlug: "wf", input: {} });
  await heard;
  process.stdout.write("heard\n");
  if (mode === "close") await backend.close();
}
