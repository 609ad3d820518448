import { Backend, type BackendOptions } from "@cairn/backend-interface";
import { MemoryDriver, type MemoryBackendOptions } from "./memory-driver.js";

/**
 * Cairn in memory: the Backend over a MemoryDriver (`new Backend(new MemoryDriver(options), options)`), named for
 * convenience; it adds nothing to Backend. Nothing outlives the process unless `snapshotFile` is given.
 */
export class MemoryBackend extends Backend<MemoryDriver> {
  constructor(options: MemoryBackendOptions & BackendOptions = {}) {
    super(new MemoryDriver(options), options);
  }
}
