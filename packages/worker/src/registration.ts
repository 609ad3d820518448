import { isCairnError, type Backend } from "@cairn/backend-interface";
import type { LoadedWorkflow } from "./discovery.js";

/**
 * Registers each workflow (metadata, input JSON Schema, step definitions) and its content-hash version.
 * Idempotent: many workers registering the same files at once agree.
 */
export async function registerWorkflows(
  backend: Backend,
  workflows: readonly LoadedWorkflow[],
  nowUs: () => number = () => backend.clock.nowUs(),
): Promise<void> {
  for (const wf of workflows) {
    const steps = wf.steps.map((s) => s.definition);
    try {
      await backend.createWorkflowVersion({
        workflowSlug: wf.slug,
        versionId: wf.versionId,
        contentHash: wf.contentHash,
        steps,
        ...(wf.flow ? { flow: wf.flow } : {}),
        ...(wf.inputSchemaJSON === undefined ? {} : { inputSchemaJSON: wf.inputSchemaJSON }),
      });
    } catch (err) {
      // Same id, other content: only possible when step metadata changed without the files changing (never), or a hash clash.
      if (!isCairnError(err, "VERSION_CONFLICT")) throw err;
    }
    await backend.registerWorkflow({
      slug: wf.slug,
      name: wf.name,
      location: wf.dir,
      versionId: wf.versionId,
      registeredAtUs: nowUs(),
      steps,
      ...(wf.description ? { description: wf.description } : {}),
      ...(wf.inputSchemaJSON === undefined ? {} : { inputSchemaJSON: wf.inputSchemaJSON }),
      ...(wf.retention ? { retention: wf.retention } : {}),
      ...(wf.on ? { on: wf.on } : {}),
      ...(wf.schedule ? { schedule: wf.schedule } : {}),
      ...(wf.flow ? { flow: wf.flow } : {}),
    });
  }
}
