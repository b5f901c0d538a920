-- Every status change rewrites a job's index entries; keep only the indexes queries use.
-- Children of a job are looked up by parent (resubmission chains): only resubmitted jobs
-- have a parent, so a partial index stays tiny and untouched by everyday transitions.
DROP INDEX irp_job_parent_idx;
CREATE INDEX irp_job_parent_idx ON irp_job (parent_job_id) WHERE parent_job_id IS NOT NULL;
-- No query looks jobs up by workflow name (recovery asks Moody's by name).
DROP INDEX irp_job_workflow_name_idx;
