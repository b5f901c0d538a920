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
-- Moves refuse_preflight (INITIATED → ERROR) of jobs not queued yet, the reason as
-- last_error, with their tracking-log rows. Move columns (irpd/db/moves.py): $1 ids,
-- $2 expected, $3 targets, $4 audit data, $5 source; $6 reasons.
WITH input AS (
    SELECT t.* FROM unnest($1::bigint[], string_to_array($2::text, ','),
                           string_to_array($3::text, ','), $4::jsonb[], $6::text[])
        AS t(id, expected, target, data, error)
), moved AS (
    UPDATE irp_job AS j
       SET status = i.target, last_error = i.error, status_changed_ts = now(),
           completed_ts = now(), updated_ts = now()
      FROM input i
     WHERE j.id = i.id AND j.status = i.expected AND j.submit_requested_ts IS NULL
    RETURNING j.id, j.batch_id, i.expected, i.target, i.data
), logged AS (
    INSERT INTO irp_job_tracking_log (job_id, job_status, previous_status, source, tracking_data)
    SELECT id, target, expected, $5, data FROM moved
)
SELECT id, batch_id, target, expected FROM moved
