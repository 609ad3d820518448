import type { Backend } from "@cairn/backend-interface";

/**
 * Registers each workflow with no steps and no version, so runs of it may be submitted (submitRun refuses a workflow
 * that was never registered) and stay hand-driven: the test schedules, claims and completes their steps itself. A
 * registration naming an existing version would make them store-driven instead (started at submit).
 */
export async function registerManual(backend: Backend, ...slugs: string[]): Promise<void> {
  for (const slug of slugs) await backend.registerWorkflow({ slug, name: slug, steps: [] });
}
