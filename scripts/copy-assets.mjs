// Copies what tsc does not emit (SQL migrations, plain .mjs module hooks) from each package's src/ to its dist/,
// at the same relative path, so the built files find them where the sources do.
// Usage: node scripts/copy-assets.mjs [packageDir ...]   (default: every workspace package)
import { cpSync, existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dirs =
  process.argv.length > 2
    ? process.argv.slice(2).map((d) => resolve(d))
    : [...readdirSync(join(root, "packages")).map((d) => join(root, "packages", d)), join(root, "conformance-tests")];

for (const dir of dirs) {
  const src = join(dir, "src");
  if (!existsSync(src)) continue;
  cpSync(src, join(dir, "dist"), {
    recursive: true,
    filter: (from) => !from.endsWith(".ts") || from.endsWith(".d.ts"),
  });
}
