-- name: override_context
-- What an override of job $1's configuration is judged against: the job configuration's data,
-- the batch type, and the configuration data (the workbook) the batch was created from.
SELECT jc.id AS job_configuration_id, jc.job_configuration_data, b.batch_type,
       c.configuration_data
  FROM irp_job j
  JOIN irp_job_configuration jc ON jc.id = j.job_configuration_id
  JOIN irp_batch b ON b.id = j.batch_id
  JOIN irp_configuration c ON c.id = b.configuration_id
 WHERE j.id = $1

-- name: override_failed_jobs
-- The FAILED and ERROR jobs of batch $1 that are not skipped, oldest first.
SELECT id
  FROM irp_job
 WHERE batch_id = $1 AND status IN ('FAILED', 'ERROR') AND NOT skipped
 ORDER BY id

-- name: override_parent_data
-- The data of job configuration $1 (the parent of an override), or no row.
SELECT job_configuration_data FROM irp_job_configuration WHERE id = $1
