import type { RunDetails } from "../client.js";
import { duration } from "./format.js";

const SYMBOL: Record<string, string> = { pending: "·", scheduled: "○", running: "◐", completed: "✓", failed: "✗", skipped: "↷", cancelled: "✗" };

/**
 * The live view of `cairn submit --wait`: one line per step (status, attempt, duration, last error). On a terminal it
 * redraws in place; otherwise it prints a line whenever a step's status or attempt changes.
 */
export class ProgressView {
  private drawn = 0;
  private readonly seen = new Map<string, string>();
  constructor(private readonly write: (text: string) => void, private readonly tty: boolean, private readonly stepOrder: string[] = []) {}

  update(d: RunDetails, nowUs: number): void {
    const byId = new Map(d.steps.map((s) => [s.stepId, s]));
    const ids = [...new Set([...this.stepOrder, ...d.steps.map((s) => s.stepId)])];
    const lines = ids.map((id) => {
      const s = byId.get(id);
      const status = s?.status ?? "pending";
      const took = s?.durationUs ?? (s?.status === "running" && s.startTimeUs ? nowUs - s.startTimeUs : undefined);
      const attempt = s && s.attemptNumber > 1 ? ` attempt ${s.attemptNumber}` : "";
      const err = s?.error && status !== "completed" ? `  ${s.error.message.split("\n")[0]!.slice(0, 80)}` : "";
      const skip = status === "skipped" && s?.skipReason ? `  (${s.skipReason})` : "";
      return { id, key: `${status}${attempt}`, text: `  ${SYMBOL[status] ?? "?"} ${id.padEnd(24)} ${status.padEnd(9)}${attempt} ${duration(took)}${err}${skip}` };
    });
    const header = `run ${d.run.runId} (${d.run.workflowSlug}): ${d.run.status}`;
    if (this.tty) {
      const block = [header, ...lines.map((l) => l.text)];
      this.write(`${this.drawn ? `\x1b[${this.drawn}A` : ""}${block.map((l) => `\x1b[2K${l}`).join("\n")}\n`);
      this.drawn = block.length;
      return;
    }
    if (this.seen.get("") !== d.run.status) { this.seen.set("", d.run.status); this.write(`${header}\n`); }
    for (const l of lines) {
      if (this.seen.get(l.id) === l.key) continue;
      this.seen.set(l.id, l.key);
      this.write(`${l.text}\n`);
    }
  }
}
