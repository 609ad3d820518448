import { ENDED_RUN_STATUSES } from "@cairn/backend-interface";
import { action, defineCommand, durationMsFlag, intFlag, printJson, withBackend, type CliProgram } from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";

type Ended = (typeof ENDED_RUN_STATUSES)[number];

/** `cairn cleanup`: deletes (or with --dry-run lists) ended runs older than a duration, in bounded batches. */
export function defineCleanupCommand(cli: CliProgram): void {
  defineCommand(
    cli,
    "cleanup",
    "delete ended runs older than a duration, with their events (never a pending or running run)",
    ["cairn cleanup --older-than 7d --dry-run", "cairn cleanup --older-than 30d --status failed --workflow etl"],
  )
    .requiredOption("--older-than <duration>", "runs that ended at least this long ago (30s, 10m, 7d)")
    .option(
      "--status <status...>",
      `only runs with these statuses (${ENDED_RUN_STATUSES.join(", ")}; default all three)`,
    )
    .option("--workflow <slug>", "only runs of this workflow")
    .option("--limit <n>", "at most this many runs in all", "10000")
    .option("--dry-run", "list what would be deleted, delete nothing")
    .action(
      action<{ olderThan: string; status?: string[]; workflow?: string; limit: string; dryRun?: boolean }>(
        cli,
        async (_args, v, cx) => {
          const olderThanMs = durationMsFlag("older-than", v.olderThan) ?? 0;
          const limit = intFlag("limit", v.limit, 1) ?? 10_000;
          for (const s of v.status ?? []) {
            if (!(ENDED_RUN_STATUSES as readonly string[]).includes(s))
              throw new UsageError(`--status ${s}: only ended runs are deleted; use ${ENDED_RUN_STATUSES.join(", ")}.`);
          }
          return withBackend(v.backend, cx.io, async (backend) => {
            const runIds: string[] = [];
            // Bounded batches, so a large store is cleaned without one huge transaction.
            while (runIds.length < limit) {
              const batch = await backend.deleteEndedRuns({
                olderThanMs,
                limit: Math.min(500, limit - runIds.length),
                ...(v.status ? { statuses: v.status as Ended[] } : {}),
                ...(v.workflow ? { workflowSlug: v.workflow } : {}),
                ...(v.dryRun ? { dryRun: true } : {}),
              });
              runIds.push(...batch.runIds);
              if (v.dryRun || batch.runIds.length === 0) break;
            }
            if (v.json) printJson(cx.io, { dryRun: v.dryRun === true, runIds });
            else {
              for (const id of runIds) cx.io.stdout(`${id}\n`);
              cx.io.stderr(
                v.dryRun
                  ? `${runIds.length} run(s) would be deleted (dry run: nothing changed).\n`
                  : `Deleted ${runIds.length} run(s).\n`,
              );
            }
            return ExitCode.ok;
          });
        },
      ),
    );
}
