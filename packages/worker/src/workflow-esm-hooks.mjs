// Module hooks (node:module register) that load the TypeScript files of a package without a "type" field
// (what `npm init` writes) as ES modules. Node would treat them as CommonJS, and a workflow file written with
// import/export then fails with "Cannot require() ES Module ... in a cycle". A package that says
// "type": "commonjs" keeps its choice. Plain JavaScript (it runs in the hooks thread, before tsx applies).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Directory → the "type" of the nearest package.json (null: none, or no "type" field). */
const typeOf = new Map();

function packageType(dir) {
  const known = typeOf.get(dir);
  if (known !== undefined) return known;
  let type = null;
  let text;
  try {
    text = readFileSync(join(dir, "package.json"), "utf8");
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    try {
      const t = JSON.parse(text).type;
      type = typeof t === "string" ? t : null;
    } catch {
      type = null;
    }
  } else if (dirname(dir) !== dir) {
    type = packageType(dirname(dir));
  }
  typeOf.set(dir, type);
  return type;
}

function loadAsModule(url) {
  if (!url.startsWith("file:")) return false;
  const path = fileURLToPath(new URL(url).href.replace(/[?#].*$/, ""));
  return (
    path.endsWith(".ts") &&
    !path.endsWith(".d.ts") &&
    !path.includes("/node_modules/") &&
    packageType(dirname(path)) === null
  );
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  return loadAsModule(resolved.url) ? { ...resolved, format: "module" } : resolved;
}

export async function load(url, context, next) {
  return next(url, loadAsModule(url) ? { ...context, format: "module" } : context);
}
