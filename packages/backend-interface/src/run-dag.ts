import { hasGate, type FlowControl } from "./flow-control.js";
import type { StepDefinition, WorkflowVersion } from "./schemas.js";

/** A workflow version's steps as the store advances a run: in topological order. */
export interface RunDag {
  /** The version the DAG comes from. */
  versionId: string;
  /** Steps in topological order (declaration order among independent steps); steps in a cycle come last. */
  steps: readonly StepDefinition[];
  /** The version's flow control, when it declares any rule that needs a gate. */
  flow?: FlowControl;
}

/** Builds the DAG of a registered version (pure). A step in a cycle or behind an unknown dependency never becomes ready. */
export function runDagOf(
  version: Pick<WorkflowVersion, "versionId" | "steps"> & { flow?: FlowControl | undefined },
): RunDag {
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
  return { versionId: version.versionId, steps: ordered, ...(hasGate(version.flow) ? { flow: version.flow } : {}) };
}
