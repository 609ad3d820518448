import Table from "cli-table3";

/** A table cell: text, or a cell spanning several columns (a detail line under a row). */
export type Cell = string | number | undefined | { content: string; colSpan: number };

/** How a table may be narrowed to fit. */
export interface TableOptions {
  /** The terminal's width; no limit when undefined (output into a pipe or a file is never cut). */
  columns?: number | undefined;
  /** Columns that give up width first when the table is too wide (default: the last one). */
  shrink?: number[];
  /** Columns left out, in this order, while the table is still too wide after shrinking. */
  optional?: number[];
  /** Wrap shrunk cells onto more lines instead of cutting them with an ellipsis. */
  wrap?: boolean;
}

const GAP = 2;
const MIN_WIDTH = 8;
const NO_BORDERS = {
  top: "",
  "top-mid": "",
  "top-left": "",
  "top-right": "",
  bottom: "",
  "bottom-mid": "",
  "bottom-left": "",
  "bottom-right": "",
  left: "",
  "left-mid": "",
  mid: "",
  "mid-mid": "",
  right: "",
  "right-mid": "",
  middle: "",
};

/**
 * Renders rows under a header as aligned columns without borders (cli-table3). On a terminal the table is narrowed to
 * its width: the `shrink` columns give up width first, their cells cut with "…" (or wrapped with `wrap`); when that is
 * not enough, the `optional` columns are left out, in the order given.
 */
export function renderTable(headers: string[], rows: Cell[][], o: TableOptions = {}): string {
  const text = (c: Cell): string => (c === undefined ? "" : typeof c === "object" ? "" : String(c));
  const natural = headers.map(
    (h, i) =>
      Math.max(h.length, ...rows.map((r) => (r.length === headers.length ? visibleWidth(text(r[i])) : 0))) + GAP,
  );
  let keep = headers.map((_, i) => i);
  let widths = natural;
  if (o.columns !== undefined) {
    for (const drop of [undefined, ...(o.optional ?? [])]) {
      if (drop !== undefined) keep = keep.filter((i) => i !== drop);
      const shrink = (o.shrink ?? [headers.length - 1]).map((i) => keep.indexOf(i)).filter((i) => i >= 0);
      widths = fit(
        keep.map((i) => natural[i]!),
        o.columns,
        shrink,
      );
      if (widths.reduce((a, b) => a + b, 0) <= o.columns) break;
    }
  }
  // Into a pipe nothing is cut or wrapped: a spanning row wider than the columns widens the last one.
  if (o.columns === undefined) {
    const spanned = Math.max(
      0,
      ...rows
        .filter((r) => r.length === 1 && typeof r[0] === "object")
        .map((r) => visibleWidth((r[0] as { content: string }).content) + GAP),
    );
    const total = widths.reduce((a, b) => a + b, 0);
    if (spanned > total) widths = [...widths.slice(0, -1), widths[widths.length - 1]! + spanned - total];
  }
  const pick = <T>(r: T[]): T[] => (o.columns === undefined ? r : keep.map((i) => r[i]!));
  const table = new Table({
    head: pick(headers),
    chars: NO_BORDERS,
    colWidths: widths,
    wordWrap: o.wrap === true,
    wrapOnWordBoundary: true,
    style: { head: [], border: [], compact: true, "padding-left": 0, "padding-right": GAP },
  });
  for (const r of rows) {
    // A spanning detail row spans whatever columns are kept.
    const cells =
      r.length === 1 && typeof r[0] === "object"
        ? [{ content: (r[0] as { content: string }).content, colSpan: widths.length }]
        : pick(r).map(text);
    table.push(cells);
  }
  return table
    .toString()
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n");
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
  return Math.max(
    0,
    ...text
      .replace(ANSI, "")
      .split("\n")
      .map((l) => [...l].length),
  );
}
