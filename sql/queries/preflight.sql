-- name: preflight_jobs
-- The jobs a submission of batch $1 would queue (INITIATED, not skipped, not yet queued),
-- with their job configuration: what pre-flight checks.
SELECT j.id, jc.job_configuration_data
  FROM irp_job j
  JOIN irp_job_configuration jc ON jc.id = j.job_configuration_id
 WHERE j.batch_id = $1 AND j.status = 'INITIATED' AND NOT j.skipped
   AND j.submit_requested_ts IS NULL
 ORDER BY j.id

-- name: job_refuse_preflight
-- Compare-and-set of job $1 from $2 to $3 (the machine's refuse_preflight) with the reason as
-- last_error, plus its tracking-log row ($4 the reason, $5 tracking data).
WITH moved AS (
    UPDATE irp_job
       SET status = $3::text, last_error = $4, status_changed_ts = now(), completed_ts = now(),
           updated_ts = now()
     WHERE id = $1 AND status = $2::text AND submit_requested_ts IS NULL
    RETURNING id, status
)
INSERT INTO irp_job_tracking_log (job_id, job_status, previous_status, source, tracking_data)
SELECT id, status, $2::text, 'engine', $5 FROM moved
RETURNING job_id
