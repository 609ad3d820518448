/** A node of a workflow's step graph, with where it was declared (for error messages). */
export interface DagNode {
  id: string;
  dependencies: readonly string[];
  file: string;
}

/** A graph problem: the file it is in and what was expected. */
export interface DagProblem {
  file: string;
  message: string;
}

/**
 * Pure: checks a step graph (unknown dependencies, cycles, self-dependencies) and returns the ids in a
 * topological order (dependencies first, ties by id) when there are no problems.
 */
export function checkDag(nodes: readonly DagNode[]): { order: string[]; problems: DagProblem[] } {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const problems: DagProblem[] = [];
  for (const n of nodes) {
    for (const d of n.dependencies) {
      if (d === n.id)
        problems.push({
          file: n.file,
          message: `step "${n.id}" depends on itself; remove "${d}" from its dependencies`,
        });
      else if (!byId.has(d))
        problems.push({
          file: n.file,
          message: `step "${n.id}" depends on unknown step "${d}"; expected one of: ${[...byId.keys()].sort().join(", ")}`,
        });
    }
  }
  if (problems.length) return { order: [], problems };
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, path: string[]): void => {
    const s = state.get(id);
    if (s === "done") return;
    if (s === "visiting") {
      const cycle = [...path.slice(path.indexOf(id)), id];
      problems.push({
        file: byId.get(id)!.file,
        message: `dependency cycle: ${cycle.join(" → ")}; a workflow must be a DAG`,
      });
      return;
    }
    state.set(id, "visiting");
    for (const d of [...byId.get(id)!.dependencies].sort()) {
      visit(d, [...path, id]);
      if (problems.length) return;
    }
    state.set(id, "done");
    order.push(id);
  };
  for (const id of [...byId.keys()].sort()) {
    visit(id, []);
    if (problems.length) return { order: [], problems };
  }
  return { order, problems };
}
