/**
 * Calls `fn` on the first Ctrl-C (SIGINT) or SIGTERM while a command watches something, instead of the default of
 * dying mid-write. Returns the function that removes the handlers; a second signal after `fn` ran is left to them.
 */
export function onInterrupt(fn: (signal: NodeJS.Signals) => void): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    release();
    fn(signal);
  };
  const release = (): void => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return release;
}
