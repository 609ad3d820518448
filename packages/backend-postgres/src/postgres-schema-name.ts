import { ConfigError } from "@cairn/backend-interface";

/** The default Postgres schema of a Cairn deployment. */
export const DEFAULT_SCHEMA = "cairn";

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,49}$/;

/**
 * Validates a Postgres schema name and returns it quoted as an identifier. The schema name is the only value
 * ever interpolated into SQL, so it is restricted to lowercase letters, digits and `_` (at most 50 characters,
 * leaving room for the notification channel name) and quoted anyway.
 */
export function quoteSchema(schema: string): string {
  if (typeof schema !== "string" || !SCHEMA_NAME.test(schema) || schema.startsWith("pg_")) {
    throw new ConfigError(
      `Invalid Postgres schema name ${JSON.stringify(String(schema)).slice(0, 80)}: use 1-50 lowercase letters, digits and _, starting with a letter or _, not pg_.`,
      { schema: String(schema).slice(0, 80) },
    );
  }
  return `"${schema}"`;
}

/** The LISTEN/NOTIFY channel of a schema (a valid schema name makes a valid channel name). */
export function channelName(schema: string): string {
  return `cairn_${schema}`;
}
