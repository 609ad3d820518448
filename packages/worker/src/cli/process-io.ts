/**
 * The CLI's side of the process's standard streams: writes that survive a closed pipe, and a flush that lets
 * piped output drain before the process exits.
 */

/** A write function for one stream that goes quiet, instead of crashing the process, once the stream breaks. */
export function guardedWriter(stream: NodeJS.WriteStream): (text: string) => void {
  // A reader that went away (`cairn runs --json | head`) makes the next write fail with EPIPE, emitted as an
  // 'error' event that would otherwise be uncaught. Nobody can read what we would write: stop writing, keep working.
  stream.on("error", () => {
    broken.add(stream);
  });
  return (text) => {
    if (streamGone(stream)) return;
    stream.write(text);
  };
}

const broken = new WeakSet<NodeJS.WriteStream>();

/**
 * True once `stream` can take no more output: a write failed (its reader went away) or it was closed. The failure is
 * remembered: process.stdout is never destroyed, and reads as writable again after the error.
 */
export function streamGone(stream: NodeJS.WriteStream): boolean {
  return broken.has(stream) || stream.destroyed || !stream.writable;
}

/** Resolves once everything written to `stream` so far has reached the OS (or the stream broke or closed). */
export function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || !stream.writable) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off("close", done);
      resolve();
    };
    stream.once("close", done);
    // Writes are ordered: the callback of an empty write runs after every earlier write was handed to the OS.
    stream.write("", done);
  });
}

/**
 * Ends the CLI process with `code` once stdout and stderr have drained. `process.exit` right away would drop
 * whatever a pipe had not yet taken (all but the first 64 KB of a large `--json` document); exiting at all,
 * rather than waiting for the event loop to empty, still ends a command whose driver left a handle open.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  process.exitCode = code;
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
