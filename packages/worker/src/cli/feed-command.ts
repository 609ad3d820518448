import type { Backend, FeedEntry } from "@cairn/backend-interface";
import {
  action,
  collectList,
  defineCommand,
  intFlag,
  withBackend,
  type CliContext,
  type CliProgram,
} from "./command.js";
import { ExitCode } from "./exit-codes.js";
import { onInterrupt } from "./interrupt.js";

interface FeedOptions {
  after?: string;
  types?: string[];
  limit?: string;
  follow?: boolean;
  pollMs: string;
}

/** Events per read when printing a finite stretch of the feed. */
const PAGE = 500;

/**
 * `cairn feed`: the event feed (every run's events in commit order). Prints the events after `--after` (at most
 * `--limit`), or with `--follow` keeps printing new ones until Ctrl-C. `--json` prints one `{cursor, event}` object
 * per line; save the last cursor and pass it as `--after` to resume behind it.
 */
export function defineFeedCommand(cli: CliProgram): void {
  defineCommand(
    cli,
    "feed",
    "print the event feed: every run's events in commit order, with a cursor to resume from (--follow streams)",
    [
      "cairn feed --limit 20",
      "cairn feed --types WorkflowCompleted,WorkflowFailed --follow --json",
      "cairn feed --after cf1_… --json | jq -c .event.type",
    ],
  )
    .option(
      "--after <cursor>",
      "only events after this cursor (from an earlier --json line or the cursor printed at the end)",
    )
    .option("--types <types>", "only these event types, comma-separated (repeatable)", collectList)
    .option("--limit <n>", "at most this many events (default 100; with --follow, no limit)")
    .option("-f, --follow", "keep printing new events as they are committed (Ctrl-C stops)")
    .option("--poll-ms <ms>", "how often --follow looks for new events when the backend has not notified", "500")
    .action(
      action<FeedOptions>(cli, async (_args, v, cx) => {
        const limit = intFlag("limit", v.limit, 1);
        const pollMs = intFlag("poll-ms", v.pollMs, 10)!;
        const types = v.types?.length ? v.types : undefined;
        return withBackend(v.backend, cx.io, async (backend) => {
          const print = (entries: FeedEntry[]) => {
            for (const e of entries)
              cx.io.stdout(v.json ? `${JSON.stringify({ cursor: e.cursor, event: e.event })}\n` : renderEntry(e, cx));
          };
          if (v.follow)
            return follow(backend, cx, { after: v.after ?? null, types, pollMs, limit, print, json: v.json === true });
          let cursor = v.after ?? null;
          let left = limit ?? 100;
          while (left > 0) {
            const page = await backend.readFeed({
              after: cursor,
              limit: Math.min(left, PAGE),
              ...(types ? { types } : {}),
            });
            print(page.entries);
            cursor = page.cursor;
            left -= page.entries.length;
            if (page.entries.length < Math.min(left + page.entries.length, PAGE)) break;
          }
          if (!v.json) cx.io.stderr(cursor ? `Resume with: cairn feed --after ${cursor}\n` : "The feed is empty.\n");
          return ExitCode.ok;
        });
      }),
    );
}

/** Follows the feed until Ctrl-C, stdout's reader goes away, or `limit` events were printed. */
async function follow(
  backend: Backend,
  cx: CliContext,
  o: {
    after: string | null;
    types: string[] | undefined;
    pollMs: number;
    limit: number | undefined;
    json: boolean;
    print: (entries: FeedEntry[]) => void;
  },
): Promise<ExitCode> {
  let printed = 0;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let failure: unknown = null;
  const sub = backend.subscribeFeed({
    from: o.after,
    pollIntervalMs: o.pollMs,
    ...(o.types ? { types: o.types } : {}),
    onEvents: (entries) => {
      const shown = o.limit === undefined ? entries : entries.slice(0, o.limit - printed);
      o.print(shown);
      printed += shown.length;
      if ((o.limit !== undefined && printed >= o.limit) || cx.io.stdoutGone?.()) stop();
    },
    onError: (e) => {
      failure = e;
      stop();
    },
  });
  const release = onInterrupt(() => stop());
  const gone = setInterval(() => cx.io.stdoutGone?.() && stop(), 200);
  gone.unref();
  try {
    await stopped;
  } finally {
    clearInterval(gone);
    release();
    await sub.stop();
  }
  if (failure) throw failure;
  if (!o.json && sub.cursor) cx.io.stderr(`Resume with: cairn feed --follow --after ${sub.cursor}\n`);
  return ExitCode.ok;
}

/** One event as a line: its time, type and where it happened. */
function renderEntry(e: FeedEntry, cx: CliContext): string {
  const ev = e.event;
  const at = new Date(Math.floor(ev.timestampUs / 1000)).toISOString();
  const where = `${ev.workflowSlug}/${ev.runId}${"stepId" in ev && ev.stepId ? `/${ev.stepId}` : ""}`;
  return `${cx.out.dim(at)}  ${ev.type.padEnd(24)} ${where}\n`;
}
