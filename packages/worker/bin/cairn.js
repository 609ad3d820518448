#!/usr/bin/env node
// The cairn CLI. Runs the built JavaScript (dist/); the TypeScript loader (tsx) is loaded only when workflow files
// or a cairn.config.ts must be imported, so `cairn --help`, `runs` and `run` start fast.
// In this repository, `node --conditions=@cairn/source bin/cairn.js` runs the TypeScript sources instead (tests do):
// the package resolves to its src/ under that condition, and tsx is registered first to load them.
const self = import.meta.resolve("@cairn/worker");
let entry = new URL("../dist/cli/main.js", import.meta.url).href;
if (self.endsWith(".ts")) {
  const { register } = await import("tsx/esm/api");
  register();
  globalThis[Symbol.for("cairn.typescript-loader")] = true;
  entry = new URL("../src/cli/main.ts", import.meta.url).href;
}
const { main, exitWhenFlushed } = await import(entry).catch((err) => {
  if (err?.code !== "ERR_MODULE_NOT_FOUND" || !String(err.message).includes(entry.replace(/^file:\/\//, ""))) throw err;
  process.stderr.write(
    "cairn: the built CLI (dist/) is missing. In the Cairn repository run `npm run build`; " +
      "otherwise reinstall @cairn/worker.\n",
  );
  process.exit(1);
});
const code = await main(process.argv.slice(2));
// Exit once stdout and stderr have drained into their pipes, even if a driver left a handle open (a pool, a timer).
await exitWhenFlushed(code);
