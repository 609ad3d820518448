-- Tenants: each run's tenant id as a virtual column over the projected state, and the index that lists one tenant's
-- runs newest first (listRuns with tenantId). Column and index only: older code can still read and write.
ALTER TABLE runs ADD COLUMN tenant_id TEXT GENERATED ALWAYS AS (json_extract(state, '$.tenantId')) VIRTUAL;
CREATE INDEX runs_by_tenant ON runs (tenant_id, created_at_us DESC, run_id DESC) WHERE tenant_id IS NOT NULL;
