import { resolve } from "node:path";
import { engineModules } from "./engine-modules.js";
import { action, defineCommand, printJson, withBackend, type CliProgram } from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { duration, time } from "./format.js";
import { renderTable } from "./table.js";

interface EmitFlags {
  payload?: string;
  id?: string;
}

/** `cairn emit` (start the workflows listening to an event) and `cairn schedules` (the registered cron schedules). */
export function defineTriggerCommands(cli: CliProgram): void {
  defineCommand(cli, "emit", "emit an event: start a run of every workflow listening to it (`on` in defineWorkflow)", [
    `cairn emit order.created --payload '{"orderId":42}'`,
    `cairn emit order.created --payload '{"orderId":42}' --id order-42-created   # the same id again starts nothing`,
    "cairn emit nightly.export --json",
  ])
    .argument("<event>", 'the event\'s name (letters, digits, "_", ".", ":", "-"; e.g. order.created)')
    .option("-p, --payload <json>", "the event's payload, JSON text: the input of every run it starts")
    .option(
      "--id <eventId>",
      "the event's id: emitting the same event and id again starts nothing new (default: a fresh id, printed)",
    )
    .action(
      action<EmitFlags>(cli, async ([event], v, cx) => {
        const { io } = cx;
        let payload: unknown;
        if (v.payload !== undefined) {
          try {
            payload = JSON.parse(v.payload);
          } catch (err) {
            throw new UsageError(
              `--payload is not valid JSON (${(err as Error).message}). Quote it for the shell, e.g. --payload '{"orderId":42}'.`,
            );
          }
        }
        return withBackend(v.backend, io, async (backend) => {
          const result = await backend.emit(event!, payload, v.id === undefined ? {} : { id: v.id });
          if (v.json) {
            printJson(io, { event, ...result });
            return ExitCode.ok;
          }
          for (const r of result.runs) io.stdout(`${r.runId}\n`);
          const fresh = result.runs.filter((r) => r.isNew).length;
          if (result.runs.length === 0)
            io.stderr(
              `Emitted ${event} (id ${result.eventId}); no registered workflow listens to it, so no run started.\n`,
            );
          else if (fresh === result.runs.length)
            io.stderr(
              `Emitted ${event} (id ${result.eventId}); started ${fresh} run(s): ${result.runs.map((r) => r.workflowSlug).join(", ")}.\n`,
            );
          else
            io.stderr(
              `Event ${event} with id ${result.eventId} was emitted before; ${fresh} new run(s), ${result.runs.length - fresh} already started.\n`,
            );
          return ExitCode.ok;
        });
      }),
    );

  defineCommand(cli, "schedules", "list cron schedules: workflow, expression, timezone, last and next tick", [
    "cairn schedules",
    "cairn schedules --workflows ./workflows",
    "cairn schedules --json",
  ])
    .option(
      "-w, --workflows <dir>",
      "discover and register this folder first (so its schedules are listed before any worker ran)",
    )
    .action(
      action<{ workflows?: string }>(cli, async (_args, v, cx) =>
        withBackend(v.backend, cx.io, async (backend) => {
          const { io } = cx;
          if (v.workflows) {
            const { discoverWorkflows, formatProblems, registerWorkflows } = await engineModules();
            const found = await discoverWorkflows(resolve(io.cwd, v.workflows));
            await registerWorkflows(backend, found.workflows);
            if (found.problems.length)
              io.stderr(`Some workflows were not registered:\n${formatProblems(found.problems)}\n`);
          }
          const schedules = await backend.listSchedules();
          if (v.json) {
            printJson(io, schedules);
            return ExitCode.ok;
          }
          if (schedules.length === 0) {
            io.stderr(
              "No schedules registered. Declare `schedule` in a workflow and run `cairn worker --workflows <dir>`.\n",
            );
            return ExitCode.ok;
          }
          const cells = schedules.map((s) => [
            s.workflowSlug,
            s.cron.join(", "),
            s.timezone,
            s.backfillMs === undefined ? "" : duration(s.backfillMs * 1000),
            s.lastTickUs === null ? "never" : time(s.lastTickUs),
            s.nextTickUs === null ? "none" : time(s.nextTickUs),
          ]);
          io.stdout(
            `${renderTable(["WORKFLOW", "SCHEDULE", "TIMEZONE", "BACKFILL", "LAST TICK", "NEXT TICK"], cells, { columns: cx.columns, shrink: [1], optional: [3, 2] })}\n`,
          );
          return ExitCode.ok;
        }),
      ),
    );
}
