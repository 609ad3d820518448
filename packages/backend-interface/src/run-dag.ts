import type { StepDefinition, WorkflowVersion } from "./schemas.js";

/** A workflow version's steps as the store advances a run: in topological order, with their dependents. */
export interface RunDag {
  /** The version the DAG comes from. */
  versionId: string;
  /** Steps in topological order (declaration order among independent steps); steps in a cycle come last. */
  steps: readonly StepDefinition[];
  /** Step ids → the steps that depend on them directly. */
  dependents: ReadonlyMap<string, readonly string[]>;
}

/** Builds the DAG of a registered version (pure). A step in a cycle or behind an unknown dependency never becomes ready. */
export function runDagOf(version: Pick<WorkflowVersion, "versionId" | "steps">): RunDag {
  const dependents = new Map<string, string[]>();
  for (const s of version.steps) for (const d of s.dependencies) dependents.set(d, [...(dependents.get(d) ?? []), s.id]);
  const ordered: StepDefinition[] = [];
  const placed = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const s of version.steps) {
      if (placed.has(s.id) || !s.dependencies.every((d) => placed.has(d))) continue;
      ordered.push(s);
      placed.add(s.id);
      progress = true;
    }
  }
  for (const s of version.steps) if (!placed.has(s.id)) ordered.push(s);
  return { versionId: version.versionId, steps: ordered, dependents };
}
