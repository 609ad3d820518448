/** Prints the functions with the most self time in a .cpuprofile, and totals by package. */
import { readFileSync } from "node:fs";

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
const prof = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byFn = new Map<string, number>();
const byPkg = new Map<string, number>();
for (const n of prof.nodes) {
  const t = self.get(n.id) ?? 0;
  if (!t) continue;
  const url = n.callFrame.url.replace(/^file:\/\//, "").replace(/.*\/work\/main\//, "");
  const key = `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
  const pkg = n.callFrame.functionName === "(idle)" ? "(idle)" : n.callFrame.functionName === "(garbage collector)" ? "(gc)" : /packages\/([^/]+)/.exec(url)?.[1] ?? /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.startsWith("node:") ? "node internals" : url ? url : n.callFrame.functionName || "(native)");
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + t);
}
const pct = (t: number) => `${((100 * t) / total).toFixed(1)}%`;
console.log(`total ${(total / 1000).toFixed(0)} ms sampled`);
console.log("\nby package:");
for (const [k, t] of [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(t).padStart(6)}  ${k}`);
console.log("\ntop functions (self time):");
for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${pct(t).padStart(6)}  ${k}`);
