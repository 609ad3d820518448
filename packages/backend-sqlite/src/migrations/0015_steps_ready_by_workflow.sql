-- cairn:breaking (older Cairn versions name the index this drops in their queries)
-- The ready index leads with the workflow. A claim or listing of some workflows walks their own ready steps (one
-- walk per workflow, merged in claim order); with the ready index in claim order alone (0001's steps_ready), a
-- claim of workflow A walked past every ready step of the workflows before it in that order, a backlog that other
-- workers serve: O(that backlog) per claim. Queries over every workflow find the workflows with ready steps by a
-- loose scan of this index (one probe per workflow), then walk each (SqliteQueries.ready).
CREATE INDEX steps_ready_by_workflow ON steps (workflow_slug, priority DESC, available_at_us, run_id, step_id)
  WHERE status = 'scheduled' AND run_live = 1;
DROP INDEX steps_ready;
