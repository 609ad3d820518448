import { toRetentionPolicy } from "./retention-spec.js";
import { toFlowControl } from "./flow-spec.js";
import { toTriggers } from "./trigger-spec.js";
import type { FlowControl, RetentionPolicy, ScheduleSpec } from "@cairn/backend-interface";
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { isValidIdentifier, type StepDefinition } from "@cairn/backend-interface";
import { isWorkflowDeclaration, type AnyWorkflow, type InputSchema } from "./define-workflow.js";
import { isStepDeclaration, type AnyStep } from "./define-step.js";
import { checkDag } from "./dag.js";
import { hashWorkflowFolder, listFiles, shortHash } from "./content-hash.js";
import { inputJsonSchema } from "./json-schema.js";
import { retryOptionProblems, toRetryPolicy } from "./retry-policy.js";
import { importWorkflowFile } from "./workflow-import.js";

/** A step loaded from disk. */
export interface LoadedStep {
  id: string;
  /** Absolute path of the step file. */
  file: string;
  declaration: AnyStep;
  definition: StepDefinition;
}

/** A workflow loaded from disk and checked. */
export interface LoadedWorkflow {
  slug: string;
  name: string;
  description?: string;
  dir: string;
  /** Absolute path of workflow.ts. */
  file: string;
  schema?: InputSchema;
  inputSchemaJSON?: unknown;
  /** The `defineWorkflow` value of workflow.ts (hooks, services, env). */
  declaration: AnyWorkflow;
  /** Steps in topological order (dependencies first). */
  steps: LoadedStep[];
  stepsById: Map<string, LoadedStep>;
  contentHash: string;
  versionId: string;
  /** How long ended runs are kept (from the declaration's `retention`). */
  retention?: RetentionPolicy;
  /** Flow control the store enforces (from the declaration's concurrency, mode, rateLimit, debounce). */
  flow?: FlowControl;
  /** The event names it listens to (from the declaration's `on`). */
  on?: string[];
  /** When it runs by itself (from the declaration's `schedule`, `timezone`, `backfill`). */
  schedule?: ScheduleSpec;
}

/** Why a workflow was not loaded: the file and what was expected. */
export interface DiscoveryProblem {
  workflowSlug: string;
  file: string;
  message: string;
  /** Where in `file` (1-based), for a syntax error. */
  line?: number;
  column?: number;
}

/** The result of discovering a workflows folder: the valid workflows and the problems of the others. */
export interface DiscoveryResult {
  workflows: LoadedWorkflow[];
  problems: DiscoveryProblem[];
}

const WORKFLOW_FILES = ["workflow.ts", "workflow.mts", "workflow.js", "workflow.mjs"];
const STEP_FILE = /\.(ts|mts|js|mjs)$/;

/** Loads every workflow folder under `workflowsDir`. A bad workflow is reported and left out; the others still load. */
export async function discoverWorkflows(workflowsDir: string): Promise<DiscoveryResult> {
  const root = resolve(workflowsDir);
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) {
    return {
      workflows: [],
      problems: [
        {
          workflowSlug: "",
          file: root,
          message:
            "workflows folder not found; expected a folder with one sub-folder per workflow (pass --workflows <dir>)",
        },
      ],
    };
  }
  const workflows: LoadedWorkflow[] = [];
  const problems: DiscoveryProblem[] = [];
  const entries = (await readdir(root, { withFileTypes: true })).filter(
    (e) => !e.name.startsWith(".") && !e.name.startsWith("_") && e.name !== "node_modules",
  );
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    // Symlinked workflow folders count too (a deployment may assemble its workflows folder from links).
    if (!e.isDirectory() && !(e.isSymbolicLink() && (await stat(join(root, e.name)).catch(() => null))?.isDirectory()))
      continue;
    const result = await loadWorkflow(join(root, e.name), e.name);
    if ("problems" in result) problems.push(...result.problems);
    else workflows.push(result);
  }
  return { workflows, problems };
}

/** Loads one workflow folder, or returns its problems. */
export async function loadWorkflow(
  dir: string,
  slug: string,
): Promise<LoadedWorkflow | { problems: DiscoveryProblem[] }> {
  const fail = (file: string, message: string) => ({ problems: [{ workflowSlug: slug, file, message }] });
  if (!isValidIdentifier("workflowSlug", slug))
    return fail(dir, `folder name "${slug}" is not a valid workflow slug; use letters, digits, "-", "_" and "."`);
  const files = await listFiles(dir);
  const wfName = WORKFLOW_FILES.find((f) => files.includes(f));
  if (!wfName)
    return fail(
      join(dir, "workflow.ts"),
      "missing workflow file; expected workflow.ts with `export default defineWorkflow({ name, input? })`",
    );
  const wfFile = join(dir, wfName);
  const wfModule = await importWorkflowFile(wfFile);
  if ("failure" in wfModule) return { problems: [{ workflowSlug: slug, file: wfFile, ...wfModule.failure }] };
  const declaration = wfModule.module.default;
  if (!isWorkflowDeclaration(declaration))
    return fail(wfFile, `expected \`export default defineWorkflow({ name, input? })\`${foundExports(wfModule.module)}`);
  const decl: AnyWorkflow = declaration;
  if (typeof decl.name !== "string" || decl.name.length === 0)
    return fail(wfFile, "defineWorkflow needs a non-empty `name`");
  if (decl.slug !== undefined && decl.slug !== slug)
    return fail(
      wfFile,
      `defineWorkflow says slug ${JSON.stringify(decl.slug)} but the folder is "${slug}"; the slug is the folder name, so rename one or drop \`slug\``,
    );
  if (decl.input !== undefined && typeof decl.input?.["~standard"]?.validate !== "function")
    return fail(wfFile, "`input` must be a zod schema (or another Standard Schema)");

  const stepFiles = files.filter(
    (f) => f.startsWith("steps/") && STEP_FILE.test(f) && !f.endsWith(".d.ts") && !/\.test\.[mc]?[jt]s$/.test(f),
  );
  if (stepFiles.length === 0)
    return fail(
      join(dir, "steps"),
      "no step files; expected steps/<id>.ts files with `export default defineStep({ run })`",
    );
  const problems: DiscoveryProblem[] = [];
  const steps = new Map<string, LoadedStep>();
  for (const rel of stepFiles) {
    const file = join(dir, rel);
    const id = rel.slice("steps/".length).replace(STEP_FILE, "");
    if (!isValidIdentifier("stepId", id)) {
      problems.push({
        workflowSlug: slug,
        file,
        message: `"${id}" is not a valid step id; use letters, digits, "-", "_" and "." in file and folder names`,
      });
      continue;
    }
    const dup = steps.get(id);
    if (dup) {
      problems.push({
        workflowSlug: slug,
        file,
        message: `duplicate step id "${id}" (also declared by ${dup.file}); keep one file per step id`,
      });
      continue;
    }
    const mod = await importWorkflowFile(file);
    if ("failure" in mod) {
      problems.push({ workflowSlug: slug, file, ...mod.failure });
      continue;
    }
    const step = mod.module.default;
    if (!isStepDeclaration(step)) {
      problems.push({
        workflowSlug: slug,
        file,
        message: `expected \`export default defineStep({ dependencies?, run })\`${foundExports(mod.module)}`,
      });
      continue;
    }
    const bad = [
      ...retryOptionProblems(step.retry),
      ...(step.timeoutMs !== undefined && !(Number.isInteger(step.timeoutMs) && step.timeoutMs > 0)
        ? ["timeoutMs must be a positive integer"]
        : []),
    ];
    if (bad.length) {
      problems.push({ workflowSlug: slug, file, message: bad.join("; ") });
      continue;
    }
    const retry = toRetryPolicy(step.retry);
    steps.set(id, {
      id,
      file,
      declaration: step,
      definition: {
        id,
        name: step.name ?? id,
        dependencies: [...step.dependencies],
        exportOutput: step.exportOutput,
        maxRetries: retry.maxRetries,
        retry,
        ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
        file: rel,
      },
    });
  }
  if (problems.length) return { problems };
  const dag = checkDag(
    [...steps.values()].map((s) => ({ id: s.id, dependencies: s.declaration.dependencies, file: s.file })),
  );
  if (dag.problems.length) return { problems: dag.problems.map((p) => ({ workflowSlug: slug, ...p })) };
  const contentHash = await hashWorkflowFolder(dir);
  const ordered = dag.order.map((id) => steps.get(id)!);
  const jsonSchema = inputJsonSchema(decl.input);
  const retention = toRetentionPolicy(decl.retention, "retention");
  if (retention.problems.length)
    return { problems: [{ workflowSlug: slug, file: wfFile, message: retention.problems.join("; ") }] };
  const flow = toFlowControl(decl, jsonSchema);
  if (flow.problems.length)
    return { problems: [{ workflowSlug: slug, file: wfFile, message: flow.problems.join("; ") }] };
  const triggers = toTriggers(decl);
  if (triggers.problems.length)
    return { problems: [{ workflowSlug: slug, file: wfFile, message: triggers.problems.join("; ") }] };
  return {
    slug,
    name: decl.name,
    dir,
    file: wfFile,
    declaration: decl,
    steps: ordered,
    stepsById: new Map(ordered.map((s) => [s.id, s])),
    contentHash,
    versionId: shortHash(contentHash),
    ...(decl.description ? { description: decl.description } : {}),
    ...(decl.input ? { schema: decl.input } : {}),
    ...(jsonSchema === undefined ? {} : { inputSchemaJSON: jsonSchema }),
    ...(retention.policy ? { retention: retention.policy } : {}),
    ...(triggers.on ? { on: triggers.on } : {}),
    ...(triggers.schedule ? { schedule: triggers.schedule } : {}),
    ...(flow.flow ? { flow: flow.flow } : {}),
  };
}

function foundExports(module: Record<string, unknown>): string {
  const names = Object.keys(module);
  if (names.length === 0) return " (the file exports nothing)";
  return names.includes("default")
    ? " (the default export is not a defineWorkflow/defineStep value)"
    : ` (found only named exports: ${names.join(", ")})`;
}

/** One line per problem: `path: message`, or `path:line:column: message` (what editors jump to). */
export function formatProblems(problems: readonly DiscoveryProblem[]): string {
  return problems.map((p) => `${p.file}${p.line ? `:${p.line}:${p.column ?? 1}` : ""}: ${p.message}`).join("\n");
}
