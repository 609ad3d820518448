import type { LoadedWorkflow } from "@cairn/worker";

/** A fault injected into the next attempts of a step (TestEnv.failStep). */
export interface StepFault {
  /** How many of the next attempts it hits (default 1). */
  times?: number;
  /** What the attempt throws instead of running (default `Error("injected failure")`); a string becomes an Error's message. */
  error?: Error | string;
  /** Instead of failing, the worker running the attempt crashes mid-step (see TestEnv.crashWorker). */
  crash?: boolean;
}

/** The faults waiting for their steps, consumed one attempt at a time. */
export class StepFaults {
  private readonly pending = new Map<string, StepFault[]>();

  /** Queues `fault` for the next `fault.times` attempts of the step. */
  add(workflowSlug: string, stepId: string, fault: StepFault): void {
    const list = this.pending.get(key(workflowSlug, stepId)) ?? [];
    for (let i = 0; i < (fault.times ?? 1); i++) list.push(fault);
    this.pending.set(key(workflowSlug, stepId), list);
  }

  /** The fault for the attempt that starts now, if any. */
  take(workflowSlug: string, stepId: string): StepFault | undefined {
    return this.pending.get(key(workflowSlug, stepId))?.shift();
  }

  /**
   * Copies of the workflows whose steps first consult the faults: a fault's error is thrown, a crash calls `crash`
   * and waits for the attempt to be aborted (the crashed worker releases nothing: its writes fail).
   */
  wrap(workflows: readonly LoadedWorkflow[], crash: () => void): LoadedWorkflow[] {
    return workflows.map((wf) => {
      const steps = wf.steps.map((s) => {
        const run = s.declaration.run;
        const declaration = {
          ...s.declaration,
          run: async (ctx: Parameters<typeof run>[0]) => {
            const fault = this.take(wf.slug, s.id);
            if (fault?.crash) {
              crash();
              await new Promise<void>((resolve) =>
                ctx.signal.aborted ? resolve() : ctx.signal.addEventListener("abort", () => resolve(), { once: true }),
              );
              throw new Error("the worker crashed");
            }
            if (fault)
              throw typeof fault.error === "string"
                ? new Error(fault.error)
                : (fault.error ?? new Error("injected failure"));
            return run(ctx);
          },
        };
        return { ...s, declaration };
      });
      return { ...wf, steps, stepsById: new Map(steps.map((s) => [s.id, s])) };
    });
  }
}

function key(workflowSlug: string, stepId: string): string {
  return `${workflowSlug}\0${stepId}`;
}
