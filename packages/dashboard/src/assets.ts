import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const own = (name: string): string => fileURLToPath(new URL(`../assets/${name}`, import.meta.url));

/**
 * The files the dashboard serves under /assets: a fixed table from a name to a file of this package or of an npm
 * package it depends on (htmx, uPlot), resolved at run time. No path from a request ever reaches the filesystem.
 */
export const ASSETS: Readonly<Record<string, { file: () => string; type: string }>> = {
  "htmx.min.js": { file: () => require.resolve("htmx.org/dist/htmx.min.js"), type: "text/javascript; charset=utf-8" },
  "uPlot.iife.min.js": {
    file: () => require.resolve("uplot/dist/uPlot.iife.min.js"),
    type: "text/javascript; charset=utf-8",
  },
  "uPlot.min.css": { file: () => require.resolve("uplot/dist/uPlot.min.css"), type: "text/css; charset=utf-8" },
  "dashboard.css": { file: () => own("dashboard.css"), type: "text/css; charset=utf-8" },
  "dashboard.js": { file: () => own("dashboard.js"), type: "text/javascript; charset=utf-8" },
};

const cache = new Map<string, Promise<Buffer>>();

/** The bytes and content type of a known asset, or null for any other name. Read once, then kept in memory. */
export async function readAsset(name: string): Promise<{ body: Buffer; type: string } | null> {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) return null;
  let body = cache.get(name);
  if (!body) {
    body = readFile(asset.file());
    cache.set(name, body);
    body.catch(() => cache.delete(name));
  }
  return { body: await body, type: asset.type };
}
