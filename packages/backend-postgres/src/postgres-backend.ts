import { Backend } from "@cairn/backend-interface";
import { PostgresDriver, type PostgresBackendOptions } from "./postgres-driver.js";

/**
 * Cairn on Postgres: the Backend over a PostgresDriver (`new Backend(new PostgresDriver(options), options)`), named
 * for convenience; it adds nothing to Backend. The driver's facts (its schema) are on `backend.driver`.
 */
export class PostgresBackend extends Backend<PostgresDriver> {
  constructor(options: PostgresBackendOptions) {
    super(new PostgresDriver(options), options);
  }
}
