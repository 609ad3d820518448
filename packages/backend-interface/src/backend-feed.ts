import { BackendSchedules } from "./backend-schedules.js";
import type { BackendDriver } from "./backend-driver.js";
import { InvalidArgumentError, InvalidFeedCursorError, isCairnError } from "./errors.js";
import type { Event } from "./events.js";
import { decodeFeedCursor, encodeFeedCursor } from "./feed-cursor.js";

/** One event of the feed and the cursor just after it (pass it as `after` to resume behind this event). */
export interface FeedEntry {
  cursor: string;
  event: Event;
}

/** One page of the feed: its events in commit order, and the cursor to read the next page from. */
export interface FeedPage {
  entries: FeedEntry[];
  /** After the last entry; when the page is empty, the cursor it was read after (null: the feed is empty). */
  cursor: string | null;
}

/** Options of readFeed. */
export interface ReadFeedOptions {
  /** Read after this cursor (from a FeedPage or FeedEntry); absent or null: from the oldest event kept. */
  after?: string | null;
  /** Only events of these types (any type name, including types this version does not know). */
  types?: readonly string[];
  /** At most this many events (1 to 10 000); default 100. */
  limit?: number;
}

/** Options of subscribeFeed. */
export interface SubscribeFeedOptions {
  /** Start after this cursor (the one the consumer saved); absent or null: from the oldest event kept. */
  from?: string | null;
  /** Only events of these types. */
  types?: readonly string[];
  /**
   * Receives each page in order, with the cursor to save once the page is handled. The next page is read only
   * after the returned promise settles; when it rejects, the same page is delivered again (at-least-once).
   */
  onEvents: (entries: FeedEntry[], cursor: string) => void | Promise<void>;
  /**
   * Called when a read or onEvents fails; the subscription retries after `pollIntervalMs`, except after a cursor
   * the store refuses (INVALID_FEED_CURSOR), which ends it.
   */
  onError?: (error: unknown) => void;
  /** Events per page; default 100. */
  batchSize?: number;
  /** How often to look for new events without a wake-up (ms); default 500. */
  pollIntervalMs?: number;
}

/** A running subscribeFeed. */
export interface FeedSubscription {
  /** Stops following (after the page being handled, if any); resolves when it has stopped. Idempotent. */
  stop(): Promise<void>;
  /** The cursor after the last page onEvents handled successfully. */
  readonly cursor: string | null;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;

/**
 * The feed layer of Backend: every event of every run in commit order, read by cursor (the event log is the
 * outbox: each event is committed with the state it changes). Ordering and completeness are the driver's
 * (BackendDriver.readFeed); this layer validates, wraps positions into opaque cursors and follows the feed.
 */
export abstract class BackendFeed<D extends BackendDriver = BackendDriver> extends BackendSchedules<D> {
  /** One page of the feed after `options.after`, in commit order across all runs (see docs/event-feed.md). */
  async readFeed(options: ReadFeedOptions = {}): Promise<FeedPage> {
    const limit = options.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${String(limit)}.`);
    const types = checkTypes(options.types);
    const after = options.after ?? null;
    const position = after === null ? null : decodeFeedCursor(after);
    let rows;
    try {
      rows = await this.store.readFeed({ after: position, ...(types ? { types } : {}), limit });
    } catch (e) {
      if (after !== null && isCairnError(e, "INVALID_FEED_CURSOR"))
        throw new InvalidFeedCursorError(after, String(e.context.reason ?? "damaged"));
      throw e;
    }
    const entries = rows.map((r) => ({ cursor: encodeFeedCursor(r.position), event: r.event }));
    return { entries, cursor: entries.at(-1)?.cursor ?? after };
  }

  /**
   * Follows the feed from `options.from`: delivers every later event to `onEvents`, page by page, at least once and
   * in commit order, waking on the driver's notifications where it has them and polling otherwise. The consumer
   * saves the cursor it is handed (a restart resumes from it, so a page handled but not saved comes again).
   */
  subscribeFeed(options: SubscribeFeedOptions): FeedSubscription {
    const batchSize = options.batchSize ?? DEFAULT_LIMIT;
    const pollMs = options.pollIntervalMs ?? 500;
    if (!Number.isInteger(pollMs) || pollMs < 1)
      throw new InvalidArgumentError(`pollIntervalMs must be a positive integer, got ${String(pollMs)}.`);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_LIMIT)
      throw new InvalidArgumentError(`batchSize must be an integer from 1 to ${MAX_LIMIT}, got ${String(batchSize)}.`);
    if (typeof options.onEvents !== "function")
      throw new InvalidArgumentError("subscribeFeed needs an onEvents function.");
    const types = checkTypes(options.types);
    let cursor = options.from ?? null;
    if (cursor !== null) decodeFeedCursor(cursor);
    let stopped = false;
    let wake: (() => void) | null = null;
    let woken = false;
    const nudge = (): void => {
      woken = true;
      wake?.();
    };
    const unsubscribe = this.subscribe(nudge);
    const sleep = (): Promise<void> =>
      new Promise((resolve) => {
        if (woken || stopped) return resolve();
        const timer = setTimeout(done, pollMs);
        function done(): void {
          clearTimeout(timer);
          wake = null;
          resolve();
        }
        wake = done;
      });
    const loop = (async () => {
      while (!stopped) {
        woken = false;
        try {
          const page = await this.readFeed({ after: cursor, limit: batchSize, ...(types ? { types } : {}) });
          if (page.entries.length > 0 && !stopped) {
            await options.onEvents(page.entries, page.cursor!);
            cursor = page.cursor;
            if (page.entries.length === batchSize) continue;
          }
        } catch (error) {
          if (isCairnError(error, "BACKEND_CLOSED")) break;
          try {
            options.onError?.(error);
          } catch {
            // The error handler's own failure must not end the subscription.
          }
          // A cursor this store refuses will never be accepted: reported once, then the subscription ends.
          if (isCairnError(error, "INVALID_FEED_CURSOR")) break;
          woken = false;
        }
        await sleep();
      }
      unsubscribe();
    })();
    return {
      get cursor() {
        return cursor;
      },
      async stop() {
        stopped = true;
        wake?.();
        await loop;
      },
    };
  }
}

function checkTypes(types: readonly string[] | undefined): string[] | undefined {
  if (types === undefined) return undefined;
  if (!Array.isArray(types) || types.length === 0)
    throw new InvalidArgumentError("types must be a non-empty list of event type names (leave it out for every type).");
  for (const t of types)
    if (typeof t !== "string" || !TYPE_NAME.test(t))
      throw new InvalidArgumentError(
        `Event type ${JSON.stringify(t)} is not a type name (letters and digits, e.g. StepCompleted).`,
      );
  return [...new Set(types)];
}
