import { html } from "hono/html";
import type { StepDefinition } from "@cairn/backend-interface";
import type { Html } from "./format.js";

const COL = 200;
const ROWH = 48;

/** Pure: each step's layer, the longest path of dependencies leading to it (a step with none is layer 0). */
export function dagLayers(steps: readonly Pick<StepDefinition, "id" | "dependencies">[]): Map<string, number> {
  const deps = new Map(steps.map((s) => [s.id, s.dependencies]));
  const layer = new Map<string, number>();
  const visit = (id: string, seen: Set<string>): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // a cycle cannot be registered; stay finite anyway
    seen.add(id);
    const l = Math.max(-1, ...(deps.get(id) ?? []).filter((d) => deps.has(d)).map((d) => visit(d, seen))) + 1;
    layer.set(id, l);
    return l;
  };
  for (const s of steps) visit(s.id, new Set());
  return layer;
}

/** The workflow's steps as a DAG in inline SVG: layers left to right, an arrow per dependency. */
export function dagSvg(steps: readonly StepDefinition[]): Html {
  if (steps.length === 0) return html`<p class="empty">No steps registered.</p>`;
  const layers = dagLayers(steps);
  const rowInLayer = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number }>();
  for (const s of steps) {
    const l = layers.get(s.id) ?? 0;
    const r = rowInLayer.get(l) ?? 0;
    rowInLayer.set(l, r + 1);
    pos.set(s.id, { x: 10 + l * COL, y: 10 + r * ROWH });
  }
  const width = 10 + (Math.max(...layers.values()) + 1) * COL;
  const height = 20 + Math.max(...rowInLayer.values()) * ROWH;
  const edges = steps.flatMap((s) =>
    s.dependencies.map((d) => {
      const from = pos.get(d);
      const to = pos.get(s.id)!;
      if (!from) return "";
      return html`<line
        class="edge"
        x1="${from.x + 160}"
        y1="${from.y + 16}"
        x2="${to.x}"
        y2="${to.y + 16}"
        marker-end="url(#arrow)"
      ></line>`;
    }),
  );
  const nodes = steps.map((s) => {
    const p = pos.get(s.id)!;
    const label = s.id.length > 22 ? `${s.id.slice(0, 21)}…` : s.id;
    const title = `${s.id}${s.retry ? ` (retries: ${s.retry.maxRetries})` : ""}${s.exportOutput ? " · exported" : ""}`;
    return html`<g class="node${s.exportOutput ? " exported" : ""}" data-step="${s.id}">
      <rect x="${p.x}" y="${p.y}" width="160" height="32" rx="6"></rect
      ><text x="${p.x + 8}" y="${p.y + 20}">${label}</text> <title>${title}</title></g
    >`;
  });
  return html`<svg
    class="dag"
    viewBox="0 0 ${width} ${height}"
    width="${Math.min(width, 1000)}"
    role="img"
    aria-label="workflow steps"
  >
    <defs>
      <marker
        id="arrow"
        viewBox="0 0 10 10"
        refX="10"
        refY="5"
        markerWidth="7"
        markerHeight="7"
        orient="auto-start-reverse"
      >
        <path d="M 0 0 L 10 5 L 0 10 z"></path>
      </marker>
    </defs>
    ${edges}${nodes}
  </svg>`;
}
