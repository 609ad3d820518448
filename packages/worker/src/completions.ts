import type { Backend, StepCompleteMetadata } from "@cairn/backend-interface";

/** One step completion, as saveStepComplete takes it. */
export interface Completion {
  workflowSlug: string;
  runId: string;
  stepId: string;
  output: unknown;
  metadata: StepCompleteMetadata;
  exportOutput?: boolean;
}

/**
 * Group commit of step completions: completions that arrive while a write is in flight (or in the same event-loop
 * turn) are written together with one `Backend.saveStepCompletes`, each still fenced on its own attempt. `complete`
 * resolves once its completion is written and rejects with its own error (e.g. StaleAttemptError) exactly as
 * `saveStepComplete` would, so callers need not know about the batching. One completion alone is one
 * `saveStepComplete`, so an idle worker pays no latency for batching.
 */
export class CompletionBatcher {
  private queue: Array<{ c: Completion; resolve: () => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;
  private inFlight = false;

  constructor(private readonly backend: Backend) {}

  complete(c: Completion): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ c, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    const batch = this.queue.splice(0);
    try {
      if (batch.length === 1) {
        const { c, resolve, reject } = batch[0]!;
        await this.backend
          .saveStepComplete(c.workflowSlug, c.runId, c.stepId, c.output, c.metadata, c.exportOutput ?? false)
          .then(resolve, reject);
      } else {
        let outcomes: Awaited<ReturnType<Backend["saveStepCompletes"]>>;
        try {
          outcomes = await this.backend.saveStepCompletes(batch.map((b) => b.c));
        } catch (err) {
          for (const b of batch) b.reject(err);
          return;
        }
        batch.forEach((b, i) => {
          const o = outcomes[i];
          if (o?.ok) b.resolve();
          else b.reject(o ? o.error : new Error("saveStepCompletes returned no outcome for this completion"));
        });
      }
    } finally {
      this.inFlight = false;
      if (this.queue.length) this.schedule();
    }
  }
}
