-- Tenants: each run's tenant id as a column the writer fills from the projected state (a plain column, so row writes
-- parse no JSON for it), and the index that lists one tenant's runs newest first (listRuns with tenantId).
ALTER TABLE runs ADD COLUMN tenant_id TEXT;
CREATE INDEX runs_by_tenant ON runs (tenant_id, created_at_us DESC, run_id DESC) WHERE tenant_id IS NOT NULL;
