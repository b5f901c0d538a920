-- name: report_batch
SELECT * FROM irp_batch_report WHERE batch_id = $1

-- name: report_batches
-- $1: batch status or NULL, $2: next action or NULL, $3: cycle id or NULL.
SELECT * FROM irp_batch_report
 WHERE ($1::text IS NULL OR status = $1)
   AND ($2::text IS NULL OR next_action = $2)
   AND ($3::bigint IS NULL OR cycle_id = $3)
 ORDER BY batch_id

-- name: report_job
SELECT * FROM irp_job_report WHERE job_id = $1

-- name: report_batch_jobs
-- $1: batch id, $2: next action or NULL, $3: job status or NULL.
SELECT * FROM irp_job_report
 WHERE batch_id = $1
   AND ($2::text IS NULL OR next_action = $2)
   AND ($3::text IS NULL OR status = $3)
 ORDER BY job_id
