// A writer that dies in the middle of a write: argv dir, runId, "before" | "after". It appends one LogEntry with the
// publication of its batch stalled forever, either before the batch file is linked (the feed slot is claimed) or
// just after (the batch is committed), prints "stalled" and waits to be SIGKILLed.
import { newEventId } from "@cairn/backend-interface";
import { FileSystemBackend } from "../../src/index.js";
import { AtomicFs } from "../../src/fs-atomic.js";

const [dir, runId, when] = process.argv.slice(2) as [string, string, "before" | "after"];
const original = AtomicFs.prototype.publish;
AtomicFs.prototype.publish = async function (this: AtomicFs, src, final) {
  if (!final.includes(`/runs/`)) return original.call(this, src, final);
  if (when === "after") await original.call(this, src, final);
  process.stdout.write("stalled\n");
  return new Promise<boolean>(() => {});
};
const b = new FileSystemBackend(dir, { durability: "none" });
await b.initialize();
const ts = b.clock.nowUs();
await b.appendEvent("wf", runId, {
  eventId: newEventId(ts),
  timestampUs: ts,
  workflowSlug: "wf",
  runId,
  category: "step",
  stepId: "s",
  type: "LogEntry",
  stream: "stdout",
  message: `stalled-${when}`,
  attemptNumber: 1,
});
