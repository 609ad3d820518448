import { ConfigError, WorkflowNotFoundError, type Backend } from "@cairn/backend-interface";

/**
 * What the client accepts as a workflow: its slug, or a declaration made by `defineWorkflow` (`@cairn/worker`), which
 * the application imports from the workflow's own file. Structural, so the client does not depend on the worker.
 */
export interface WorkflowRef {
  /** The workflow's slug (its folder name), when the declaration states it. */
  readonly slug?: string | undefined;
  /** The display name: names the workflow when `slug` is absent and one registered workflow has this name. */
  readonly name: string;
  /** A Standard Schema (zod, valibot, ...) for the run input. */
  readonly input?: unknown;
}

/** The input type a Standard Schema accepts (its `types.input`), or `unknown` for a value that is not one. */
type SchemaInput<S> = [S] extends [never]
  ? unknown
  : [S] extends [{ readonly "~standard": { readonly types?: { readonly input: infer I } | undefined } }]
    ? I
    : unknown;

/**
 * The input `submit` takes for a workflow: what its schema accepts before defaults and transforms apply (so a field
 * with a default is optional), `unknown` for a slug or a workflow without a schema.
 */
export type SubmitInput<W> = W extends string
  ? unknown
  : W extends { readonly input?: infer S }
    ? SchemaInput<NonNullable<S>>
    : unknown;

/**
 * The slug of a workflow reference: a string as is; a declaration's `slug`; else the one registered workflow whose
 * display name is the declaration's `name`. Throws WorkflowNotFoundError when none is registered under that name,
 * ConfigError when several are.
 */
export async function resolveWorkflowSlug(backend: Backend, workflow: string | WorkflowRef): Promise<string> {
  if (typeof workflow === "string") return workflow;
  if (typeof workflow.slug === "string" && workflow.slug.length > 0) return workflow.slug;
  const named = (await backend.listWorkflowMetadata()).filter((m) => m.name === workflow.name);
  if (named.length === 1) return named[0]!.slug;
  if (named.length === 0) throw new WorkflowNotFoundError(workflow.name);
  throw new ConfigError(
    `${named.length} registered workflows are named ${JSON.stringify(workflow.name)} ` +
      `(${named.map((m) => m.slug).join(", ")}). Give the declaration its slug: defineWorkflow({ slug: "<folder>", ... }).`,
    { name: workflow.name },
  );
}
