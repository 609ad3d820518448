export { SqliteBackend } from "./sqlite-backend.js";
export { SqliteDriver, type SqliteBackendOptions } from "./sqlite-driver.js";
export { openBackend } from "./open-backend.js";
export {
  migrate,
  loadMigrations,
  LATEST_SCHEMA_VERSION,
  type Migration,
  type MigrationOutcome,
} from "./sqlite-migrations.js";
export {
  translateSqliteError,
  isBusy,
  sqliteCode,
  withBusyRetry,
  DEFAULT_BUSY_RETRY,
  type BusyRetryPolicy,
} from "./sqlite-errors.js";
export type { CorruptionReporter } from "./sqlite-codec.js";
