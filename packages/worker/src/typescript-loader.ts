/** Set on globalThis by whoever registered a TypeScript loader in this process (our bin, in source mode). */
const LOADER_FLAG = Symbol.for("cairn.typescript-loader");

let loading: Promise<void> | undefined;

/** True for a file Node cannot import without a TypeScript loader. */
export function isTypeScriptFile(file: string): boolean {
  return /\.[cm]?tsx?$/.test(file) && !file.endsWith(".d.ts");
}

/** True when a loader already handles TypeScript here: ours, or tsx given with --import/--loader. */
function loaderActive(): boolean {
  if ((globalThis as Record<symbol, unknown>)[LOADER_FLAG] === true) return true;
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].join(" ");
  return /(^|\s)--(import|loader|experimental-loader)[= ]\S*tsx/.test(flags);
}

/**
 * Registers tsx (its ESM register API) once per process, unless a TypeScript loader is already active. Called just
 * before a TypeScript workflow, step or config file is imported, so commands that import none never pay for it.
 */
export function ensureTypeScriptLoader(): Promise<void> {
  loading ??= (async () => {
    if (loaderActive()) return;
    const { register } = await import("tsx/esm/api");
    register();
    (globalThis as Record<symbol, unknown>)[LOADER_FLAG] = true;
  })();
  return loading;
}
