import { WorkerPresenceSchema, type PresenceFilter, type WorkerPresence } from "@cairn/backend-interface";
import { readDirOrEmpty, readTextOrNull, type AtomicFs } from "./fs-atomic.js";
import type { CorruptionReporter } from "./fs-corruption.js";
import { withFsErrors } from "./fs-errors.js";
import type { FsLayout } from "./fs-layout.js";

/** Workers' presence records: one file per worker (`workers/<workerId>.json`), replaced atomically by rename. */
export class FsPresence {
  constructor(
    private readonly layout: FsLayout,
    private readonly atomic: AtomicFs,
    private readonly reporter: CorruptionReporter,
  ) {}

  /** Stores (replaces) a worker's record. */
  async put(presence: WorkerPresence): Promise<void> {
    await this.atomic.replace(this.layout.workerFile(presence.workerId), `${JSON.stringify(presence)}\n`);
  }

  /** Records matching the filter; damaged files are reported and left out. Cost: one small file per worker. */
  async read(filter: PresenceFilter): Promise<WorkerPresence[]> {
    const ids =
      filter.workerId !== undefined
        ? [filter.workerId]
        : (await readDirOrEmpty(this.layout.workersDir()))
            .filter((n) => n.endsWith(".json"))
            .map((n) => n.slice(0, -5));
    const records = await Promise.all(ids.map((id) => this.readOne(id)));
    return records.filter((p): p is WorkerPresence => p !== null && p.lastSeenUs >= filter.seenSinceUs);
  }

  private async readOne(workerId: string): Promise<WorkerPresence | null> {
    const path = this.layout.workerFile(workerId);
    const text = await withFsErrors("reading", path, () => readTextOrNull(path));
    if (text === null) return null;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      this.reporter.report(path, "invalid or truncated JSON in a worker presence record", { workerId }, err);
      return null;
    }
    const parsed = WorkerPresenceSchema.safeParse(raw);
    if (parsed.success && parsed.data.workerId === workerId) return parsed.data;
    this.reporter.report(path, "worker presence record does not match its schema or file name", { workerId });
    return null;
  }
}
