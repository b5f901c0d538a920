-- Queries of the scale benchmark (bench/): bulk seeding and the harness's observations.
-- Loaded with sql.parse_queries; every query is run by name from bench/benchdb.py.

-- name: seed_cycle
INSERT INTO irp_cycle (cycle_name) VALUES ($1) RETURNING id

-- name: seed_active_configuration
INSERT INTO irp_configuration (cycle_id, configuration_file_name, configuration_data, status)
VALUES ($1, 'bench-in-flight.xlsx', '{}'::jsonb, 'ACTIVE')
RETURNING id

-- name: seed_active_batch
INSERT INTO irp_batch (configuration_id, batch_type, status, submitted_ts)
VALUES ($1, 'multi_job', 'ACTIVE', now())
RETURNING id

-- name: seed_job_configurations
-- $1 batch, $2 configuration, $3 how many; `seq` numbers them 1..$3 (it maps a job to its
-- workflow in the fake: workflow id = first id + seq - 1).
INSERT INTO irp_job_configuration (batch_id, configuration_id, job_configuration_data)
SELECT $1, $2, jsonb_build_object('job_key', 'bench-' || g, 'batch_type', 'multi_job', 'seq', g)
  FROM generate_series(1, $3::int) AS g

-- name: seed_submitted_jobs
-- One SUBMITTED job per job configuration of batch $1, as the dispatcher leaves it after
-- Moody's acknowledged the submission: key, name, workflow id, due for a poll now.
INSERT INTO irp_job (batch_id, job_configuration_id, status, submit_requested_ts,
                     idempotency_key, workflow_name, submitting_ts, submission_attempts,
                     moodys_workflow_id, submitted_ts, next_poll_at, status_changed_ts)
SELECT jc.batch_id, jc.id, 'SUBMITTED', now(),
       gen_random_uuid(), 'irpd-bench-' || (jc.job_configuration_data ->> 'seq'), now(), 1,
       ($2::bigint + (jc.job_configuration_data ->> 'seq')::bigint - 1)::text, now(), now(), now()
  FROM irp_job_configuration jc
 WHERE jc.batch_id = $1
 ORDER BY jc.id

-- name: seed_submission_configuration
-- A VALID configuration whose "jobs" list feeds the multi_job batch type ($2 jobs), as a
-- generic workbook's jobs sheet would.
INSERT INTO irp_configuration (cycle_id, configuration_file_name, configuration_data, status)
SELECT $1, 'bench-submission.xlsx',
       jsonb_build_object('jobs', jsonb_agg(jsonb_build_object(
           'name', 'job' || g, 'portfolio', 'PF' || (g % 7), 'threshold', g % 100) ORDER BY g)),
       'VALID'
  FROM generate_series(1, $2::int) AS g
RETURNING id

-- name: analyze
ANALYZE

-- name: jobs_in_status
-- Jobs of batch $1 still in one of the statuses $2, from the live counts the product keeps
-- in the same transaction as every job write (polled every 0.1 s: it must cost nothing).
SELECT coalesce(sum(n), 0)::bigint FROM irp_batch_job_count
 WHERE batch_id = $1 AND status = ANY($2::text[])

-- name: transition_span
-- Committed transitions previous → status: how many, and the first and last statement times
-- (tracked_ts is now(), the writing transaction's start) as epoch seconds.
SELECT count(*)::bigint AS transitions,
       extract(epoch FROM min(tracked_ts))::float8 AS first_ts,
       extract(epoch FROM max(tracked_ts))::float8 AS last_ts
  FROM irp_job_tracking_log
 WHERE previous_status = $1 AND job_status = $2

-- name: transition_span_of_batch
-- transition_span for the jobs of batch $3 only: index probes by job, so that a database with
-- a long history (bench.history) is not scanned whole after every sweep.
SELECT count(*)::bigint AS transitions,
       extract(epoch FROM min(t.tracked_ts))::float8 AS first_ts,
       extract(epoch FROM max(t.tracked_ts))::float8 AS last_ts
  FROM irp_job j
  JOIN irp_job_tracking_log t ON t.job_id = j.id
 WHERE j.batch_id = $3 AND t.previous_status = $1 AND t.job_status = $2

-- name: daemon_statements
-- The jobs of batch $3 that each of the daemon's statements moved $1 → $2: one array per
-- writing transaction (its xmin), in the order they were written. The statement alone
-- (bench/pgonly.py) replays exactly these chunks.
SELECT array_agg(t.job_id ORDER BY t.id) AS ids
  FROM irp_job j
  JOIN irp_job_tracking_log t ON t.job_id = j.id
 WHERE j.batch_id = $3 AND t.previous_status = $1 AND t.job_status = $2
 GROUP BY t.xmin::text
 ORDER BY min(t.id)

-- name: server_version
SELECT current_setting('server_version') AS server_version,
       current_setting('synchronous_commit') AS synchronous_commit,
       current_setting('fsync') AS fsync,
       current_setting('shared_buffers') AS shared_buffers,
       current_setting('max_connections') AS max_connections

-- name: backend_pid
SELECT pg_backend_pid()

-- name: daemon_backends
-- Server processes of the daemon's pool (application_name 'irpd') on this database.
SELECT pid FROM pg_stat_activity
 WHERE datname = current_database() AND application_name = 'irpd'

-- name: running_back_to_queued
-- Jobs of batch $1 in RUNNING back to QUEUED (the statement-alone measurement moves them
-- again); the live counts follow by their triggers. Returns the ids in order.
WITH back AS (
    UPDATE irp_job SET status = 'QUEUED', status_changed_ts = now(), updated_ts = now()
     WHERE batch_id = $1 AND status = 'RUNNING'
 RETURNING id
)
SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM back

-- name: vacuum_jobs
VACUUM ANALYZE irp_job
