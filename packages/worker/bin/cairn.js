#!/usr/bin/env node
// The cairn CLI. Runs the TypeScript sources directly (no build step) through tsx.
import { register } from "tsx/esm/api";

register();
const { main, exitWhenFlushed } = await import("../src/cli/main.ts");
const code = await main(process.argv.slice(2));
// Exit once stdout and stderr have drained into their pipes, even if a driver left a handle open (a pool, a timer).
await exitWhenFlushed(code);
