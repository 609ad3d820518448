import { checkGuard, BackendUnavailableError, type Event, type GuardVerdict, type RunState, type WriteGuard } from "@cairn/backend-interface";
import type { AtomicFs } from "./fs-atomic.js";
import { readDirOrEmpty, readTextOrNull } from "./fs-atomic.js";
import type { CorruptionReporter } from "./fs-corruption.js";
import { withFsErrors } from "./fs-errors.js";
import { KeyedMutex } from "./fs-keyed-mutex.js";
import { parseSeq, type FsLayout, type RunAddress } from "./fs-layout.js";
import { applyEvents, emptyView, parseBatch, projectRunAfter, type RunView } from "./fs-run-view.js";

/** What the index maintenance does around a publication (see FsIndexes). */
export interface AppendHooks {
  /** Before the batch becomes visible: create the index entries the new state needs (durably). */
  beforePublish(view: RunView, postRun: RunState | null, events: readonly Event[]): Promise<void>;
  /** After the batch is visible: retire entries the new state no longer needs. `recheck` re-reads newer batches. */
  afterPublish(view: RunView, preRun: RunState | null, recheck: () => Promise<RunView>): Promise<void>;
}

/** Give up an optimistic append after this many lost races in a row (only under pathological contention). */
const MAX_APPEND_ROUNDS = 10_000;

/**
 * The per-run event logs: batch files `runs/<slug>/<runId>/events/<seq>.json`, a per-run projection cache, and the
 * optimistic guarded append.
 *
 * Appends need no lock. A writer brings its view up to batch N, checks the guard, and publishes batch N+1 with an
 * exclusive link; if another process took N+1 first (EEXIST), it reads the new batches, re-checks the guard and tries
 * N+2. Nothing is ever held, so a writer that dies mid-claim cannot block a step: recovery from a dead claimer is
 * true by construction. Within one process, a per-run mutex keeps concurrent calls from racing each other needlessly.
 */
export class EventLog {
  private readonly cache = new Map<string, RunView>();
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly layout: FsLayout,
    private readonly atomic: AtomicFs,
    private readonly reporter: CorruptionReporter,
    private readonly cacheSize: number,
  ) {}

  /** The run's current view (shared cache object: read it, never mutate it). */
  async view(a: RunAddress): Promise<RunView> {
    return this.mutex.run(key(a), () => this.refresh(a));
  }

  /** Runs `fn` with the run's fresh view while holding this process's lock on the run. */
  async withRun<T>(a: RunAddress, fn: (view: RunView) => Promise<T>): Promise<T> {
    return this.mutex.run(key(a), async () => fn(await this.refresh(a)));
  }

  /** Brings the cached view up to date (call only under the run's mutex). */
  async refresh(a: RunAddress): Promise<RunView> {
    const k = key(a);
    let view = this.cache.get(k);
    if (view) {
      this.cache.delete(k); // re-insert below: most recently used last
    } else {
      view = await this.loadFull(a);
    }
    await this.catchUp(view);
    this.cache.set(k, view);
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return view;
  }

  /** Drops a run's cached view (after a rollback of a failed submission). */
  forget(a: RunAddress): void {
    this.cache.delete(key(a));
  }

  /** Reads the batches published after `view.lastSeq` and folds them in. */
  async catchUp(view: RunView): Promise<void> {
    for (;;) {
      const seq = view.lastSeq + 1;
      const path = this.layout.batchFile(view, seq);
      const text = await withFsErrors("reading", path, () => readTextOrNull(path));
      if (text === null) return;
      const events = parseBatch(text, path, view, this.reporter);
      if (events) applyEvents(view, events);
      view.lastSeq = seq;
    }
  }

  private async loadFull(a: RunAddress): Promise<RunView> {
    const view = emptyView(a);
    const batches = await this.readAllBatches(a);
    for (const b of batches) {
      if (b.events) applyEvents(view, b.events);
      view.lastSeq = b.seq;
    }
    return view;
  }

  /** Every batch of a run in sequence order (damaged ones with `events: null`, already reported). */
  private async readAllBatches(a: RunAddress): Promise<Array<{ seq: number; events: Event[] | null }>> {
    const dir = this.layout.eventsDir(a);
    const seqs = (await withFsErrors("listing", dir, () => readDirOrEmpty(dir)))
      .map(parseSeq)
      .filter((s): s is number => s !== null)
      .sort((x, y) => x - y);
    const texts = await Promise.all(seqs.map((seq) => readTextOrNull(this.layout.batchFile(a, seq))));
    const out: Array<{ seq: number; events: Event[] | null }> = [];
    let expected = 0;
    for (let i = 0; i < seqs.length; i++) {
      const seq = seqs[i] as number;
      for (; expected < seq; expected++) this.reporter.report(this.layout.batchFile(a, expected), "missing batch file (gap in the sequence)", { workflowSlug: a.workflowSlug, runId: a.runId });
      expected = seq + 1;
      const text = texts[i];
      if (text === null || text === undefined) continue;
      out.push({ seq, events: parseBatch(text, this.layout.batchFile(a, seq), a, this.reporter) });
    }
    return out;
  }

  /** Every event of a run in append order, or of one category/step. Damaged batches are reported and skipped. */
  async readEvents(a: RunAddress): Promise<Event[]> {
    const out: Event[] = [];
    for (const b of await this.readAllBatches(a)) if (b.events) out.push(...b.events);
    return out;
  }

  /**
   * The guarded append: atomically (optimistically) check `guard` against the run's projection and publish `events`
   * as the run's next batch. Returns the guard's verdict; on refusal nothing is written.
   */
  async append(a: RunAddress, stepId: string | undefined, guard: WriteGuard, events: readonly Event[], hooks: AppendHooks): Promise<GuardVerdict> {
    return this.withRun(a, async (view) => {
      let tmp: string | undefined;
      try {
        for (let round = 0; round < MAX_APPEND_ROUNDS; round++) {
          const step = stepId === undefined ? null : view.steps.get(stepId) ?? null;
          const verdict = checkGuard(guard, view.run, step);
          if (!verdict.ok || events.length === 0) return verdict;
          const preRun = view.run;
          await hooks.beforePublish(view, projectRunAfter(preRun, events), events);
          tmp ??= await this.atomic.writeTemp(JSON.stringify(events));
          if (await this.atomic.publish(tmp, this.layout.batchFile(view, view.lastSeq + 1))) {
            applyEvents(view, events);
            view.lastSeq += 1;
            await hooks.afterPublish(view, preRun, async () => (await this.catchUp(view), view));
            return verdict;
          }
          await this.catchUp(view); // another writer took the slot: re-read and re-check
        }
        throw new BackendUnavailableError(`Could not append to run ${a.runId} after ${MAX_APPEND_ROUNDS} lost races.`);
      } finally {
        if (tmp) await this.atomic.discard(tmp);
      }
    });
  }

  /** Publishes a prepared temp file as the view's next batch (under the run's mutex). True when published. */
  async publishNext(view: RunView, tmp: string, events: readonly Event[]): Promise<boolean> {
    if (!(await this.atomic.publish(tmp, this.layout.batchFile(view, view.lastSeq + 1)))) return false;
    applyEvents(view, events);
    view.lastSeq += 1;
    return true;
  }
}

function key(a: RunAddress): string {
  return `${a.workflowSlug}/${a.runId}`;
}
