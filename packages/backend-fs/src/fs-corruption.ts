import { CorruptRecordError, type ErrorContext } from "@cairn/backend-interface";

/** Called once per damaged file the store finds. */
export type CorruptionListener = (error: CorruptRecordError) => void;

/**
 * Collects damaged records (truncated files, invalid JSON, wrong schema). Each path is reported once:
 * kept in `records`, passed to the `onCorrupt` listener, and warned about on the console. The caller skips the
 * record and reads the rest.
 */
export class CorruptionReporter {
  /** Every damaged record found so far, one per path. */
  readonly records: CorruptRecordError[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly listener?: CorruptionListener,
    private readonly warn: boolean = true,
  ) {}

  /** Reports a damaged record at `path`; repeated reports of one path are ignored. */
  report(path: string, reason: string, context: ErrorContext = {}, cause?: unknown): CorruptRecordError {
    const error = new CorruptRecordError(path, reason, context, cause);
    if (this.seen.has(path)) return error;
    this.seen.add(path);
    this.records.push(error);
    if (this.warn) console.warn(`[cairn/backend-fs] ${error.message}`);
    try {
      this.listener?.(error);
    } catch {
      // A listener's failure must not turn a skipped record into a failed read.
    }
    return error;
  }
}
