import { InvalidArgumentError } from "./errors.js";
import type { LogProgress } from "./schemas.js";

/** Item counts of a step's progress: how many items there are, and how many were processed, succeeded and failed. */
export interface ItemsProgressInput {
  itemsTotal?: number;
  itemsProcessed: number;
  itemsSucceeded?: number;
  itemsFailed?: number;
}

/** Progress as a fraction in [0, 1], as `{ current, total }`, or as item counts (non-negative integers). */
export type ProgressInput = number | { current: number; total: number } | ItemsProgressInput;

/**
 * A progress report (`ctx.progress`, the tracker's `step.progress`) as the log line it stores: its text
 * (`[progress] 150/500 items, 148 ok, 2 failed (30%) page 3`) and its LogProgress. Item counts are checked
 * (InvalidArgumentError, nothing recorded); a fraction is clamped to [0, 1].
 */
export function progressReport(progress: ProgressInput, message?: string): { line: string; progress: LogProgress } {
  const items =
    typeof progress === "object" && progress !== null && "itemsProcessed" in progress ? itemsOf(progress) : undefined;
  const fraction = items
    ? items.total
      ? items.processed / items.total
      : 0
    : typeof progress === "number"
      ? progress
      : (progress as { total: number }).total > 0
        ? (progress as { current: number }).current / (progress as { total: number }).total
        : 0;
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const pct = `${Math.round(clamped * 100)}%`;
  const detail = items
    ? `${items.processed}${items.total !== undefined ? `/${items.total}` : ""} items${itemsNote(items)}${items.total ? ` (${pct})` : ""}`
    : typeof progress === "number"
      ? pct
      : `${(progress as { current: number }).current}/${(progress as { total: number }).total} (${pct})`;
  return {
    line: `[progress] ${detail}${message ? ` ${message}` : ""}`,
    progress: { fraction: clamped, ...(message ? { message } : {}), ...(items ? { items } : {}) },
  };
}

/** The item counts of a progress report, checked (non-negative integers), as LogProgress stores them. */
function itemsOf(p: ItemsProgressInput): NonNullable<LogProgress["items"]> {
  const fields = {
    total: p.itemsTotal,
    processed: p.itemsProcessed,
    succeeded: p.itemsSucceeded,
    failed: p.itemsFailed,
  };
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined && k !== "processed") continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw new InvalidArgumentError(
        `Progress items${k[0]!.toUpperCase()}${k.slice(1)} must be a non-negative integer, got ${JSON.stringify(v) ?? String(v)}.`,
        { field: `items${k[0]!.toUpperCase()}${k.slice(1)}` },
      );
    }
  }
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as NonNullable<
    LogProgress["items"]
  >;
}

function itemsNote(i: NonNullable<LogProgress["items"]>): string {
  const parts = [
    ...(i.succeeded !== undefined ? [`${i.succeeded} ok`] : []),
    ...(i.failed !== undefined ? [`${i.failed} failed`] : []),
  ];
  return parts.length ? `, ${parts.join(", ")}` : "";
}
