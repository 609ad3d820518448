/**
 * The worker engine, loaded by the commands that load or run workflows (`worker`, `submit --workflows`,
 * `workflows --workflows`) when they run, not at CLI start-up: `--help`, `runs` and `run` never pay for it.
 */
export async function engineModules() {
  const [worker, discovery, registration] = await Promise.all([
    import("../worker.js"),
    import("../discovery.js"),
    import("../registration.js"),
  ]);
  return {
    startWorker: worker.startWorker,
    discoverWorkflows: discovery.discoverWorkflows,
    formatProblems: discovery.formatProblems,
    registerWorkflows: registration.registerWorkflows,
  };
}
