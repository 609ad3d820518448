import type { RunView } from "./run-view.js";
import type { LogProgress } from "@cairn/backend-interface";
import { clip, duration, percent } from "./format.js";
import { statusColor, type Styles } from "./styles.js";

/**
 * A progress report in words: `30% 150/500 items (148 ok, 2 failed) message` (no percentage for counts without a
 * total); the percentage in whole percent, or with one decimal (`wholePercent: false`, what `cairn run` shows).
 */
export function progressText(p: LogProgress, wholePercent = false): string {
  const i = p.items;
  const pct =
    !i || i.total
      ? `${percent(wholePercent ? Math.round(p.fraction * 100) : Math.round(p.fraction * 1000) / 10)} `
      : "";
  const counts = i
    ? `${i.processed}${i.total !== undefined ? `/${i.total}` : ""} items${i.succeeded !== undefined || i.failed !== undefined ? ` (${[...(i.succeeded !== undefined ? [`${i.succeeded} ok`] : []), ...(i.failed !== undefined ? [`${i.failed} failed`] : [])].join(", ")})` : ""} `
    : "";
  return `${pct}${counts}${p.message ?? ""}`.trimEnd();
}

const SYMBOL: Record<string, string> = {
  pending: "·",
  scheduled: "○",
  running: "◐",
  completed: "✓",
  failed: "✗",
  skipped: "↷",
  cancelled: "✗",
};

/**
 * The live view of `--wait`: one line per step (status, attempt, duration, progress of the running attempt, last
 * error). On a terminal it redraws in place; otherwise it prints a line whenever a step's status, attempt or progress
 * (in whole tens of percent) changes.
 */
export class ProgressView {
  private drawn = 0;
  private readonly seen = new Map<string, string>();
  /** `columns`: the terminal's width; on a terminal each line is cut to it, so redrawing in place stays aligned. */
  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
    private readonly styles: Styles,
    private readonly stepOrder: string[] = [],
    private readonly columns = 100,
  ) {}

  update(v: RunView, nowUs: number): void {
    const s = this.styles;
    const byId = new Map(v.steps.map((st) => [st.stepId, st]));
    const ids = [...new Set([...this.stepOrder, ...v.steps.map((st) => st.stepId)])];
    const lines = ids.map((id) => {
      const st = byId.get(id);
      const status = st?.status ?? "pending";
      const current = v.attempts.get(id)?.at(-1);
      const took = status === "running" && st?.startTimeUs ? nowUs - st.startTimeUs : st?.durationUs;
      const attempt = st && st.attemptNumber > 1 ? ` attempt ${st.attemptNumber}` : "";
      const progress =
        status === "running" && current?.outcome === "running" && current.progress ? current.progress : undefined;
      const shown = progress ? `  ${progressText(progress, true)}` : "";
      // The last error says why a step failed or waits for a retry; while it runs again, its progress matters more.
      const why =
        st?.error && (status === "failed" || status === "scheduled")
          ? st.error.message
          : status === "skipped"
            ? (st?.skipReason ?? "")
            : "";
      const head = `  ${SYMBOL[status] ?? "?"} ${id.padEnd(24)} ${status.padEnd(9)}${attempt} ${duration(took)}${shown}`;
      const room = this.tty ? this.columns - 1 - [...head].length - 2 : Infinity;
      const note = why && room >= 10 ? `  ${clip(why, room)}` : "";
      const key = `${status}${attempt}${progress ? ` ${Math.floor(progress.fraction * 10)} ${progress.items ? progress.items.processed : ""} ${progress.message ?? ""}` : ""}`;
      const text = `${head.replace(status.padEnd(9), statusColor(s, status.padEnd(9)))}${!note ? "" : status === "skipped" ? s.dim(note) : s.red(note)}`;
      return {
        id,
        key,
        text: this.tty && [...head].length > this.columns - 1 ? [...head].slice(0, this.columns - 1).join("") : text,
      };
    });
    const header = `run ${v.run.runId} (${v.run.workflowSlug}): ${statusColor(s, v.run.status)}`;
    if (this.tty) {
      const block = [header, ...lines.map((l) => l.text)];
      this.write(`${this.drawn ? `\x1b[${this.drawn}A` : ""}${block.map((l) => `\x1b[2K${l}`).join("\n")}\n`);
      this.drawn = block.length;
      return;
    }
    if (this.seen.get("") !== v.run.status) {
      this.seen.set("", v.run.status);
      this.write(`${header}\n`);
    }
    for (const l of lines) {
      if (this.seen.get(l.id) === l.key) continue;
      this.seen.set(l.id, l.key);
      this.write(`${l.text}\n`);
    }
  }
}
