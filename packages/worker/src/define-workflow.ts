import type { LifecycleHooks } from "./lifecycle-hooks.js";
import type { ServiceFactories } from "./worker-services.js";
import type { RetentionSpec } from "./retention-spec.js";
import type { FlowSpec } from "./flow-spec.js";
import type { TriggerDeclaration } from "./trigger-spec.js";

/** A Standard Schema (zod 3.24+, zod 4, valibot, ...): what a workflow's `input` may be. */
export interface InputSchema<Output = unknown> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => unknown;
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined;
  };
}

/** The parsed input type of a schema (its output type), or `unknown` without one. */
export type InferInput<S> = S extends InputSchema<infer O> ? O : unknown;

/** What `defineWorkflow` accepts. */
export interface WorkflowSpec<S extends InputSchema | undefined = InputSchema | undefined>
  extends LifecycleHooks<InferInput<S>>, FlowSpec, TriggerDeclaration {
  /**
   * The workflow's slug. It is always the folder name; stating it here (discovery checks that they agree) lets an
   * application submit with the declaration itself (`client.submit(workflow, input)`, @cairn/client) even when
   * several registered workflows share a display name.
   */
  slug?: string;
  /** Display name. */
  name: string;
  description?: string;
  /** Schema the run input is validated against when the run starts. */
  input?: S;
  /** Services scoped to this workflow (`ctx.services`), over the worker's of the same name; created lazily, once per worker. */
  services?: ServiceFactories;
  /** Environment variables of this workflow's steps (`ctx.env`), over the worker's `env`. */
  env?: Record<string, string>;
  /**
   * How long ended runs are kept, per status (`{ completed: "7d", failed: "30d" }`); a status left out falls back to
   * the deployment's default (`retention` in cairn.config), else is kept forever. Workers delete older runs.
   */
  retention?: RetentionSpec;
}

const WORKFLOW_BRAND = Symbol.for("cairn.workflow");

/** A declared workflow: the default export of `<workflows>/<slug>/workflow.ts`. */
export interface WorkflowDeclaration<
  S extends InputSchema | undefined = InputSchema | undefined,
> extends WorkflowSpec<S> {
  readonly [WORKFLOW_BRAND]: true;
  /** Type-level carrier of the run input type; never set at runtime. */
  readonly __input?: InferInput<S>;
}

/** Any workflow declaration. */
export type AnyWorkflow = WorkflowDeclaration<InputSchema | undefined>;
/** The run input type of a workflow declaration. */
export type WorkflowInput<W> = W extends WorkflowDeclaration<infer S> ? InferInput<S> : unknown;

/** Declares a workflow: its display name and optional input schema. Export it as the default of `workflow.ts`. */
export function defineWorkflow<S extends InputSchema | undefined = undefined>(
  spec: WorkflowSpec<S>,
): WorkflowDeclaration<S> {
  return { ...spec, [WORKFLOW_BRAND]: true } as WorkflowDeclaration<S>;
}

/** True for a value made by defineWorkflow (in any copy of this module). */
export function isWorkflowDeclaration(value: unknown): value is AnyWorkflow {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[WORKFLOW_BRAND] === true;
}
