import Table from "cli-table3";

/** A table cell: text, or a cell spanning several columns (a detail line under a row). */
export type Cell = string | number | undefined | { content: string; colSpan: number };

/** How a table may be narrowed to fit. */
export interface TableOptions {
  /** The terminal's width; no limit when undefined (output into a pipe or a file is never cut). */
  columns?: number | undefined;
  /** Columns that give up width first when the table is too wide (default: the last one). */
  shrink?: number[];
  /** Wrap shrunk cells onto more lines instead of cutting them with an ellipsis. */
  wrap?: boolean;
}

const GAP = 2;
const MIN_WIDTH = 8;
const NO_BORDERS = {
  top: "", "top-mid": "", "top-left": "", "top-right": "", bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "",
};

/**
 * Renders rows under a header as aligned columns without borders (cli-table3). On a terminal the table is narrowed to
 * its width: the `shrink` columns give up width first, their cells cut with "…" (or wrapped with `wrap`).
 */
export function renderTable(headers: string[], rows: Cell[][], o: TableOptions = {}): string {
  const text = (c: Cell): string => (c === undefined ? "" : typeof c === "object" ? "" : String(c));
  const natural = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleWidth(text(r[i])))) + GAP);
  const widths = o.columns === undefined ? natural : fit(natural, o.columns, o.shrink ?? [headers.length - 1]);
  const table = new Table({
    head: headers, chars: NO_BORDERS, colWidths: widths, wordWrap: o.wrap === true, wrapOnWordBoundary: true,
    style: { head: [], border: [], compact: true, "padding-left": 0, "padding-right": GAP },
  });
  for (const r of rows) table.push(r.map((c) => (c !== undefined && typeof c === "object" ? { content: c.content, colSpan: c.colSpan } : text(c))));
  return table.toString().split("\n").map((l) => l.trimEnd()).join("\n");
}

/** Column widths that add up to at most `columns`, taking width from the `shrink` columns, widest first. */
export function fit(natural: number[], columns: number, shrink: number[]): number[] {
  const widths = [...natural];
  let excess = widths.reduce((a, b) => a + b, 0) - columns;
  while (excess > 0) {
    const widest = shrink.filter((i) => (widths[i] ?? 0) > MIN_WIDTH).sort((a, b) => widths[b]! - widths[a]!)[0];
    if (widest === undefined) break;
    widths[widest]! -= 1;
    excess -= 1;
  }
  return widths;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** The width of text on screen (colour codes take none). */
export function visibleWidth(text: string): number {
  return Math.max(0, ...text.replace(ANSI, "").split("\n").map((l) => [...l].length));
}
