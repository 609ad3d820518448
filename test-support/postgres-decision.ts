/** Which Postgres a test run uses, decided once by the global setup. `url` null means unavailable (see `reason`). */
export interface PostgresDecision {
  url: string | null;
  source: "DATABASE_URL" | "local" | "embedded" | "none";
  reason: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    cairnPostgres: PostgresDecision;
  }
}
