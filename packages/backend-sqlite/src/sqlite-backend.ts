import { Backend } from "@cairn/backend-interface";
import { SqliteDriver, type SqliteBackendOptions } from "./sqlite-driver.js";

/**
 * Cairn on SQLite: the Backend over a SqliteDriver (`new Backend(new SqliteDriver(filename, options), options)`),
 * named for convenience; it adds nothing to Backend. The driver's facts (file name, schema version, damaged
 * records found) are on `backend.driver`. `new SqliteBackend(":memory:")` gives a private in-memory database.
 */
export class SqliteBackend extends Backend<SqliteDriver> {
  constructor(filename: string, options: SqliteBackendOptions = {}) {
    super(new SqliteDriver(filename, options), options);
  }
}
