import { afterAll, beforeAll, describe } from "vitest";
import { resolveCapabilities, type ConformanceHarness, type ConformanceInstance } from "./support/harness.js";
import { ProcessPool } from "./support/processes.js";
import { eventTests } from "./events.js";
import { identifierTests } from "./identifiers.js";
import { claimTests } from "./claims.js";
import { fencingTests } from "./fencing.js";
import { batchCompleteTests } from "./batch-complete.js";
import { reclaimTests } from "./reclaim.js";
import { submitTests } from "./submit.js";
import { submitCheckTests } from "./submit-checks.js";
import { queryTests } from "./queries.js";
import { projectionTests } from "./projections.js";
import { cancelTests } from "./cancel.js";
import { versionTests } from "./versions.js";
import { checkpointTests } from "./checkpoints.js";
import { rerunTests } from "./rerun.js";
import { outputTests } from "./outputs.js";
import { stepTests } from "./steps.js";
import { corruptionTests } from "./corruption.js";
import { analyticsTests } from "./analytics.js";
import { analyticsFixtureTests } from "./analytics-fixture.js";
import { transitionTests } from "./transitions.js";
import { transitionMaintenanceTests } from "./transitions-maintenance.js";
import { transitionRaceTests } from "./transitions-races.js";
import { workerPresenceTests } from "./workers.js";
import { backendLifecycleTests } from "./backend-lifecycle.js";
import { retentionTests } from "./retention.js";
import { markTests } from "./marks.js";
import { flowControlTests } from "./flow-control.js";
import { triggerTests } from "./triggers.js";
import { feedTests } from "./feed.js";
import { waitTests } from "./waits.js";
import { callTests } from "./calls.js";
import { childStepTests } from "./child-steps.js";
import { counterTests } from "./counters.js";
import { progressTests } from "./progress.js";
import { linkTests } from "./links.js";
import { tenantTests } from "./tenants.js";
import { trackedRunTests } from "./tracked-runs.js";

/**
 * Registers the Cairn backend conformance suite for one driver: vitest describe blocks covering every obligation of
 * the Backend contract. Every test gets fresh storage from `create` and is torn down with `destroy`; tests branch on
 * the declared capabilities, never on the driver's name.
 */
export function defineConformanceSuite<I extends ConformanceInstance>(harness: ConformanceHarness<I>): void {
  const h = harness as unknown as ConformanceHarness;
  describe(`conformance: ${harness.name}`, () => {
    // One set of child processes serves every multi-process test; spawning starts now, alongside the in-process tests.
    const procs = new ProcessPool();
    if (resolveCapabilities(h).multiProcess) beforeAll(() => procs.warm(8));
    afterAll(() => procs.close());
    eventTests(h, procs);
    identifierTests(h);
    submitTests(h, procs);
    submitCheckTests(h);
    claimTests(h, procs);
    fencingTests(h);
    batchCompleteTests(h);
    reclaimTests(h, procs);
    queryTests(h);
    projectionTests(h);
    cancelTests(h);
    versionTests(h);
    checkpointTests(h);
    rerunTests(h);
    outputTests(h);
    stepTests(h);
    corruptionTests(h);
    analyticsTests(h);
    analyticsFixtureTests(h);
    transitionTests(h);
    transitionMaintenanceTests(h);
    transitionRaceTests(h, procs);
    workerPresenceTests(h);
    backendLifecycleTests(h);
    retentionTests(h);
    markTests(h);
    flowControlTests(h, procs);
    triggerTests(h, procs);
    feedTests(h, procs);
    waitTests(h, procs);
    callTests(h);
    childStepTests(h);
    counterTests(h, procs);
    progressTests(h);
    linkTests(h);
    tenantTests(h);
    trackedRunTests(h);
  });
}
