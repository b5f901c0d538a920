-- Analyses, groupings and EDMs are submitted under their natural names (what analysts see in
-- Moody's and what later steps look up), and a resubmitted job keeps its name: the workflow
-- name identifies the work, the idempotency key identifies the submission.
ALTER TABLE irp_job DROP CONSTRAINT irp_job_workflow_name_unique;
CREATE INDEX irp_job_workflow_name_idx ON irp_job (workflow_name) WHERE workflow_name IS NOT NULL;
