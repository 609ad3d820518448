export { FileSystemBackend } from "./fs-backend.js";
export { FileSystemDriver, type FileSystemBackendOptions } from "./fs-driver.js";
export { openBackend, type FsOpenConfig } from "./open-backend.js";
export type { Durability, MetadataCalls } from "./fs-atomic.js";
export type { CorruptionListener } from "./fs-corruption.js";
export { FS_SCHEMA_VERSION } from "./fs-store.js";
export { FsLayout } from "./fs-layout.js";
