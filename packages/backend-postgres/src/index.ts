export { PostgresBackend } from "./postgres-backend.js";
export { PostgresDriver, type PostgresBackendOptions } from "./postgres-driver.js";
export { openBackend } from "./open-backend.js";
export { migrate, loadMigrations, latestVersion, type Migration } from "./postgres-migrations.js";
export { translatePgError, isConnectionError } from "./postgres-errors.js";
export { DEFAULT_SCHEMA, quoteSchema, channelName } from "./postgres-schema-name.js";
