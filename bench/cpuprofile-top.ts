/**
 * Prints the functions with the most self time in a .cpuprofile, and totals by package; with `--inclusive`, also the
 * functions with the most time spent in them or in what they called (each function counted once per sample).
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
const file = process.argv.slice(2).find((a) => !a.startsWith("--"))!;
const prof = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const urlOf = (n: Node) =>
  n.callFrame.url.replace(/^file:\/\//, "").replace(/.*\/(packages|node_modules|bench)\//, "$1/");
const keyOf = (n: Node) => `${n.callFrame.functionName || "(anonymous)"} ${urlOf(n)}:${n.callFrame.lineNumber + 1}`;
const byFn = new Map<string, number>();
const byPkg = new Map<string, number>();
for (const n of prof.nodes) {
  const t = self.get(n.id) ?? 0;
  if (!t) continue;
  const url = urlOf(n);
  const key = keyOf(n);
  byFn.set(key, (byFn.get(key) ?? 0) + t);
  const pkg =
    n.callFrame.functionName === "(idle)"
      ? "(idle)"
      : n.callFrame.functionName === "(garbage collector)"
        ? "(gc)"
        : (/packages\/([^/]+)/.exec(url)?.[1] ??
          /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
          (url.startsWith("node:") ? "node internals" : url ? url : n.callFrame.functionName || "(native)"));
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + t);
}
const pct = (t: number) => `${((100 * t) / total).toFixed(1)}%`;
console.log(`total ${(total / 1000).toFixed(0)} ms sampled`);
console.log("\nby package:");
for (const [k, t] of [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(t).padStart(6)}  ${k}`);
console.log("\ntop functions (self time):");
for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${pct(t).padStart(6)}  ${k}`);

if (process.argv.includes("--inclusive")) {
  const parent = new Map<number, Node>();
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const inclusive = new Map<string, number>();
  for (const [id, t] of self) {
    const seen = new Set<string>();
    for (let n = byId.get(id); n; n = parent.get(n.id)) seen.add(keyOf(n));
    for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + t);
  }
  console.log("\ntop functions (inclusive time):");
  const shown = [...inclusive]
    .filter(([k]) => !k.startsWith("(root)") && !k.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1]);
  for (const [k, t] of shown.slice(0, 60)) console.log(`  ${pct(t).padStart(6)}  ${k}`);
}
