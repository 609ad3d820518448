import type { CallRecord, ChildStepRecord } from "@cairn/backend-interface";
import { clip, duration, time } from "./format.js";
import type { Styles } from "./styles.js";
import type { Cell } from "./table.js";

/** One child step as `cairn run` shows it: its latest record, its depth in the tree, and the calls it made. */
export interface ChildNode {
  record: ChildStepRecord;
  depth: number;
  calls: CallRecord[];
}

/**
 * The child steps of one step as a tree, in display order (each child after its parent, siblings by start time). A
 * child that ran in several attempts shows its latest record (a child a retry replayed keeps the attempt that ran it);
 * a child whose parent has no record (the parent did not end) is shown at the top. Each node carries the calls its
 * attempt made inside it.
 */
export function childTree(
  stepId: string,
  children: readonly ChildStepRecord[],
  calls: readonly CallRecord[],
): ChildNode[] {
  const latest = new Map<string, ChildStepRecord>();
  for (const c of children) if (c.stepId === stepId) latest.set(c.childId, c);
  const under = new Map<string | undefined, ChildStepRecord[]>();
  for (const c of latest.values()) {
    const parent = c.parentChildId !== undefined && latest.has(c.parentChildId) ? c.parentChildId : undefined;
    under.set(parent, [...(under.get(parent) ?? []), c]);
  }
  const out: ChildNode[] = [];
  const walk = (parent: string | undefined, depth: number): void => {
    for (const c of [...(under.get(parent) ?? [])].sort((a, b) => a.startedAtUs - b.startedAtUs)) {
      out.push({
        record: c,
        depth,
        calls: calls.filter(
          (k) => k.stepId === stepId && k.childId === c.childId && k.attemptNumber === c.attemptNumber,
        ),
      });
      walk(c.childId, depth + 1);
    }
  };
  walk(undefined, 0);
  return out;
}

/** The rows of a step's child steps under its attempts (the columns of `cairn run`'s attempt table), indented by depth. */
export function childRows(nodes: readonly ChildNode[], s: Styles): Cell[][] {
  return nodes.map(({ record: c, depth, calls }) => {
    const failed = calls.filter((k) => k.outcome === "error").length;
    const counted = calls.length
      ? `${calls.length} call${calls.length === 1 ? "" : "s"}${failed ? ` (${failed} failed)` : ""}`
      : "";
    const error = c.error ? `${c.error.name ? `${c.error.name}: ` : ""}${clip(c.error.message, 80)}` : "";
    return [
      `${"  ".repeat(depth + 1)}└ ${c.name}`,
      c.status === "ok" ? s.green("ok") : s.red("error"),
      `#${c.attemptNumber}`,
      "",
      time(c.startedAtUs),
      duration(c.durationUs),
      [counted, error].filter(Boolean).join(" · "),
    ];
  });
}
