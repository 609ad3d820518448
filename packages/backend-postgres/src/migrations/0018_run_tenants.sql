-- Tenants: each run's tenant id as a generated column over the projected state, and the index that lists one
-- tenant's runs newest first (listRuns with tenantId). Older code can still read and write.
ALTER TABLE {{schema}}.runs ADD COLUMN IF NOT EXISTS tenant_id text GENERATED ALWAYS AS (state->>'tenantId') STORED;
CREATE INDEX IF NOT EXISTS runs_tenant_created_idx ON {{schema}}.runs (tenant_id, created_at_us DESC, run_id DESC) WHERE tenant_id IS NOT NULL;
