/**
 * A cron-triggered job (every minute, say): one bounded round of upkeep. It reclaims steps whose host died mid-step,
 * starts delayed runs that became due, fails runs past their timeout and (with CAIRN_RETENTION_MS) deletes runs that
 * ended long enough ago. Many of them may run at once: each change is one guarded write, so of two jobs one makes it
 * and the other finds nothing to do.
 *
 *   CAIRN_BACKEND=sqlite:./.cairn/cairn.db node --import tsx examples/serverless/cron-maintenance.ts
 *
 * (in this repository add --conditions=@cairn/source, to run the sources). Run directly, it is one tick: it prints
 * what it changed as JSON and exits.
 */
import { pathToFileURL } from "node:url";
import type { RetentionPolicy } from "@cairn/backend-interface";
import { discoverWorkflows, maintenanceTick, openBackend, type MaintenanceTickResult } from "@cairn/worker";

const backend = await openBackend(process.env.CAIRN_BACKEND ?? "sqlite:./.cairn/cairn.db");
// The workflows are only needed for their onFail hooks (runs this tick fails).
const { workflows } = await discoverWorkflows(process.env.CAIRN_WORKFLOWS ?? "examples/workflows");

/** The platform's handler: one tick. `staleMs` must exceed the handlers' heartbeat interval (5 s by default) well. */
export async function handler(): Promise<MaintenanceTickResult> {
  const retentionMs = process.env.CAIRN_RETENTION_MS;
  return maintenanceTick({
    backend,
    workflows,
    staleMs: Number(process.env.CAIRN_STALE_MS ?? 30_000),
    // Runs ended that long ago are deleted (unless their workflow's own retention says otherwise), once a minute.
    ...(retentionMs === undefined ? {} : { retention: { defaults: everyStatus(Number(retentionMs)) } }),
  });
}

/** The same retention for completed, failed and cancelled runs. */
function everyStatus(ms: number): RetentionPolicy {
  return { completedMs: ms, failedMs: ms, cancelledMs: ms };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await handler()));
  await backend.close();
}
