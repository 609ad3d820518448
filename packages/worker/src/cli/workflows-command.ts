import { resolve } from "node:path";
import type { DiscoveryProblem } from "../discovery.js";
import { engineModules } from "./engine-modules.js";
import { action, defineCommand, printJson, withBackend, type CliProgram } from "./command.js";
import { ExitCode } from "./exit-codes.js";
import { time } from "./format.js";
import { renderTable } from "./table.js";

/** `cairn workflows`: registered workflows; with --workflows, discovers and registers a folder first (reporting problems). */
export function defineWorkflowsCommand(cli: CliProgram): void {
  defineCommand(cli, "workflows", "list registered workflows (--workflows <dir>: check and register a folder first)", [
    "cairn workflows",
    "cairn workflows --workflows ./workflows   # exit 6 when a workflow has problems",
  ])
    .option(
      "-w, --workflows <dir>",
      "discover this folder, report every problem (file and what was expected), register the valid workflows; exits 6 when a workflow has problems",
    )
    .action(
      action<{ workflows?: string }>(cli, async (_args, v, cx) =>
        withBackend(v.backend, cx.io, async (backend) => {
          const { io } = cx;
          let problems: DiscoveryProblem[] = [];
          if (v.workflows) {
            const { discoverWorkflows, formatProblems, registerWorkflows } = await engineModules();
            const found = await discoverWorkflows(resolve(io.cwd, v.workflows));
            problems = found.problems;
            await registerWorkflows(backend, found.workflows);
            if (problems.length) io.stderr(`Some workflows were not registered:\n${formatProblems(problems)}\n`);
          }
          const metas = await backend.listWorkflowMetadata();
          const rows = await Promise.all(
            metas.map(async (m) => ({ ...m, steps: await backend.getWorkflowSteps(m.slug) })),
          );
          if (v.json) printJson(io, v.workflows ? { workflows: rows, problems } : rows);
          else if (rows.length === 0)
            io.stderr(
              "No workflows registered. Run `cairn worker --workflows <dir>` or `cairn workflows --workflows <dir>`.\n",
            );
          else {
            const cells = rows.map((r) => [
              r.slug,
              r.name,
              r.steps.length,
              r.inputSchemaJSON === undefined ? "no" : "yes",
              r.versionId ?? "",
              time(r.registeredAtUs),
            ]);
            io.stdout(
              `${renderTable(["SLUG", "NAME", "STEPS", "INPUT SCHEMA", "VERSION", "REGISTERED"], cells, { columns: cx.columns, shrink: [1], optional: [5, 4] })}\n`,
            );
          }
          return problems.length ? ExitCode.badWorkflows : ExitCode.ok;
        }),
      ),
    );
}
