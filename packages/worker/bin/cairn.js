#!/usr/bin/env node
// The cairn CLI. Runs the TypeScript sources directly (no build step) through tsx.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
const code = await main(process.argv.slice(2));
// Flush and exit even if a driver left a handle open (a pool, a timer).
process.exitCode = code;
setImmediate(() => process.exit(code));
