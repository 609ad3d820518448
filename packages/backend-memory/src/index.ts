export { MemoryBackend } from "./memory-backend.js";
export { MemoryDriver, type MemoryBackendOptions } from "./memory-driver.js";
export { openBackend } from "./open-backend.js";
export { MEMORY_SNAPSHOT_VERSION } from "./memory-snapshot.js";
