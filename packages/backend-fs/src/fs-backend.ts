import { Backend } from "@cairn/backend-interface";
import { FileSystemDriver, type FileSystemBackendOptions } from "./fs-driver.js";

/**
 * Cairn on plain files: the Backend over a FileSystemDriver (`new Backend(new FileSystemDriver(dir, options),
 * options)`), named for convenience; it adds nothing to Backend. The driver's facts (base directory, durability,
 * damaged files found) are on `backend.driver`. See the package README for the layout and the guarantees.
 */
export class FileSystemBackend extends Backend<FileSystemDriver> {
  constructor(baseDir: string, options: FileSystemBackendOptions = {}) {
    super(new FileSystemDriver(baseDir, options), options);
  }
}
