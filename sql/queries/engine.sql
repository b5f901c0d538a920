-- Queries of the daemon's engine (dispatcher, tracker, canceller, leases).
-- Every status change is a move decided by the machines in statemachines/ (irpd/db/moves.py):
-- the statements take expected and target statuses as parameters (never as literals), do a
-- compare-and-set on the expected status, fenced by the caller's shard leases
-- (irp_owned_shards once per bulk statement), and write the tracking-log row in the same
-- statement.

-- name: lease_heartbeat
INSERT INTO irp_worker (worker_id, hostname, pid, version)
VALUES ($1, $2, $3, $4)
ON CONFLICT (worker_id) DO UPDATE
   SET heartbeat_ts = now(), stopped_ts = NULL, pid = EXCLUDED.pid

-- name: lease_renew
UPDATE irp_shard
   SET lease_expires_ts = now() + make_interval(secs => $2)
 WHERE owner_worker_id = $1 AND lease_expires_ts > now()
RETURNING shard

-- name: lease_live_workers
SELECT count(*)::int FROM irp_worker
 WHERE stopped_ts IS NULL AND heartbeat_ts > now() - make_interval(secs => $1)

-- name: lease_claim
UPDATE irp_shard AS s
   SET owner_worker_id = $1,
       lease_expires_ts = now() + make_interval(secs => $2),
       generation = s.generation + 1
 WHERE s.shard IN (
        SELECT shard FROM irp_shard
         WHERE owner_worker_id IS NULL OR lease_expires_ts IS NULL OR lease_expires_ts <= now()
         ORDER BY shard
         LIMIT $3
           FOR UPDATE SKIP LOCKED)
RETURNING s.shard

-- name: lease_release
UPDATE irp_shard
   SET owner_worker_id = NULL, lease_expires_ts = NULL
 WHERE owner_worker_id = $1 AND shard = ANY($2::smallint[])

-- name: lease_stop_worker
WITH released AS (
    UPDATE irp_shard SET owner_worker_id = NULL, lease_expires_ts = NULL
     WHERE owner_worker_id = $1
)
UPDATE irp_worker SET stopped_ts = now() WHERE worker_id = $1

-- name: lease_snapshot
SELECT s.shard, s.owner_worker_id, s.lease_expires_ts, s.generation
  FROM irp_shard s ORDER BY s.shard

-- name: engine_queued_jobs
-- Jobs asked to be submitted, oldest request first. Non-seed RDM exports wait until their
-- batch's seed export has finished (the RDM must exist first); a job whose configuration has
-- a `level` (roll-ups of roll-ups) waits until every lower-level job of its batch succeeded.
SELECT j.id, j.batch_id, b.batch_type, jc.job_configuration_data
  FROM irp_job j
  JOIN irp_batch b ON b.id = j.batch_id
  JOIN irp_job_configuration jc ON jc.id = j.job_configuration_id
 WHERE j.engine_phase = 'queued'  -- INITIATED and asked to be submitted
   AND NOT j.skipped
   AND irp_job_shard(j.id) = ANY($1::smallint[])
   AND (b.batch_type <> 'export_to_rdm'
        OR coalesce((jc.job_configuration_data ->> 'seed')::boolean, false)
        OR EXISTS (
            SELECT 1 FROM irp_job sj
              JOIN irp_job_configuration sjc ON sjc.id = sj.job_configuration_id
             WHERE sj.batch_id = j.batch_id
               AND NOT sj.skipped
               AND sj.status IN ('FINISHED', 'FORCED_OK')
               AND coalesce((sjc.job_configuration_data ->> 'seed')::boolean, false)))
   AND (coalesce((jc.job_configuration_data ->> 'level')::int, 0) <= 1
        OR NOT EXISTS (
            SELECT 1 FROM irp_job dj
              JOIN irp_job_configuration djc ON djc.id = dj.job_configuration_id
             WHERE dj.batch_id = j.batch_id
               AND NOT dj.skipped
               AND dj.status NOT IN ('FINISHED', 'FORCED_OK')
               AND coalesce((djc.job_configuration_data ->> 'level')::int, 0)
                   < (jc.job_configuration_data ->> 'level')::int))
 ORDER BY j.submit_requested_ts, j.id
 LIMIT $2

-- name: engine_unresolved_submissions
-- Submissions whose outcome is unknown (the intent was committed, no workflow id recorded):
-- SUBMITTING jobs, and jobs whose cancel was requested while they were being submitted.
SELECT j.id, j.batch_id, j.status, j.idempotency_key, j.workflow_name, j.submitting_ts,
       j.submission_attempts, b.batch_type, jc.job_configuration_data,
       extract(epoch FROM now() - j.submitting_ts)::float8 AS seconds_since_intent
  FROM irp_job j
  JOIN irp_batch b ON b.id = j.batch_id
  JOIN irp_job_configuration jc ON jc.id = j.job_configuration_id
 WHERE (j.engine_phase = 'submitting'  -- SUBMITTING
        OR (j.engine_phase = 'cancel'  -- CANCEL_REQUESTED
            AND j.moodys_workflow_id IS NULL AND j.idempotency_key IS NOT NULL))
   AND (j.next_poll_at IS NULL OR j.next_poll_at <= now())
   AND irp_job_shard(j.id) = ANY($1::smallint[])
   AND NOT (j.id = ANY($2::bigint[]))
 ORDER BY j.id
 LIMIT $3

-- name: engine_begin_submit
-- Moves begin_submit (INITIATED → SUBMITTING) with the idempotency key and workflow name,
-- committed before the HTTP call is made. $6 keys, $7 names, $8 worker.
WITH owned AS MATERIALIZED (
    SELECT irp_owned_shards($8) AS shards
), input AS (
    SELECT t.* FROM unnest($1::bigint[], string_to_array($2::text, ','),
                           string_to_array($3::text, ','), $4::jsonb[], $6::uuid[],
                           $7::text[]) AS t(id, expected, target, data, key, name), owned o
     WHERE irp_job_shard(t.id) = ANY (o.shards)
), moved AS (
    UPDATE irp_job AS j
       SET status = i.target, idempotency_key = i.key, workflow_name = i.name,
           submitting_ts = now(), status_changed_ts = now(), updated_ts = now(),
           next_poll_at = NULL, last_error = NULL
      FROM input i
     WHERE j.id = i.id AND j.status = i.expected AND j.submit_requested_ts IS NOT NULL
       AND NOT j.skipped
 RETURNING j.id, j.batch_id, i.expected, i.target, i.data
), logged AS (
    INSERT INTO irp_job_tracking_log (job_id, job_status, previous_status, source, tracking_data)
    SELECT id, target, expected, $5, data FROM moved
)
SELECT id, batch_id, target, expected FROM moved

-- name: engine_record_acknowledged
-- Moves acknowledge (SUBMITTING → SUBMITTED): Moody's accepted the submission.
-- $6 workflow ids, $7 requests, $8 responses, $9 seconds to the first poll, $10 worker.
WITH owned AS MATERIALIZED (
    SELECT irp_owned_shards($10) AS shards
), input AS (
    SELECT t.* FROM unnest($1::bigint[], string_to_array($2::text, ','),
                           string_to_array($3::text, ','), $4::jsonb[], $6::text[],
                           $7::jsonb[], $8::jsonb[], $9::float8[])
        AS t(id, expected, target, data, workflow_id, request, response, poll_in), owned o
     WHERE irp_job_shard(t.id) = ANY (o.shards)
), moved AS (
    UPDATE irp_job AS j
       SET status = i.target, moodys_workflow_id = i.workflow_id,
           submission_request = i.request, submission_response = i.response,
           submitted_ts = now(), submission_attempts = j.submission_attempts + 1,
           status_changed_ts = now(), next_poll_at = now() + make_interval(secs => i.poll_in),
           last_error = NULL, updated_ts = now()
      FROM input i
     WHERE j.id = i.id AND j.status = i.expected AND j.moodys_workflow_id IS NULL
 RETURNING j.id, j.batch_id, i.expected, i.target, i.workflow_id, i.data
), logged AS (
    INSERT INTO irp_job_tracking_log
           (job_id, moodys_workflow_id, job_status, previous_status, source, tracking_data)
    SELECT id, workflow_id, target, expected, $5, data FROM moved
)
SELECT id, batch_id, target AS status, workflow_id FROM moved

-- name: engine_record_workflow_id
-- Moody's accepted the submission of a job whose cancel was requested meanwhile: no move
-- (the job keeps its status, $2), it learns its workflow id so the cancel can be sent.
-- $1 ids, $2 expected status, $3 workflow ids, $4 requests, $5 responses, $6 seconds to the
-- first poll, $7 worker.
WITH owned AS MATERIALIZED (
    SELECT irp_owned_shards($7) AS shards
), input AS (
    SELECT t.* FROM unnest($1::bigint[], $3::text[], $4::jsonb[], $5::jsonb[], $6::float8[])
        AS t(id, workflow_id, request, response, poll_in), owned o
     WHERE irp_job_shard(t.id) = ANY (o.shards)
)
UPDATE irp_job AS j
   SET moodys_workflow_id = i.workflow_id,
       submission_request = i.request, submission_response = i.response,
       submitted_ts = now(), submission_attempts = j.submission_attempts + 1,
       next_poll_at = now() + make_interval(secs => i.poll_in),
       last_error = NULL, updated_ts = now()
  FROM input i
 WHERE j.id = i.id AND j.status = $2::text AND j.moodys_workflow_id IS NULL
RETURNING j.id, j.batch_id, j.status, i.workflow_id

-- name: engine_record_settled
-- Moves complete_synchronously (→ FINISHED) or refuse (→ ERROR, reason in last_error): the
-- submission ended without a workflow to track. $6 errors, $7 requests, $8 responses,
-- $9 accepted (Moody's carried the operation out), $10 worker.
WITH owned AS MATERIALIZED (
    SELECT irp_owned_shards($10) AS shards
), input AS (
    SELECT t.* FROM unnest($1::bigint[], string_to_array($2::text, ','),
                           string_to_array($3::text, ','), $4::jsonb[], $6::text[],
                           $7::jsonb[], $8::jsonb[], $9::boolean[])
        AS t(id, expected, target, data, error, request, response, accepted), owned o
     WHERE irp_job_shard(t.id) = ANY (o.shards)
), moved AS (
    UPDATE irp_job AS j
       SET status = i.target, last_error = i.error,
           submission_request = i.request, submission_response = i.response,
           submitted_ts = CASE WHEN i.accepted THEN now() ELSE j.submitted_ts END,
           submission_attempts = j.submission_attempts + 1,
           completed_ts = now(), status_changed_ts = now(), updated_ts = now(),
           next_poll_at = NULL, progress = CASE WHEN i.accepted THEN 100 ELSE j.progress END
      FROM input i
     WHERE j.id = i.id AND j.status = i.expected AND j.moodys_workflow_id IS NULL
 RETURNING j.id, j.batch_id, i.expected, i.target, i.data
), logged AS (
    INSERT INTO irp_job_tracking_log (job_id, job_status, previous_status, source, tracking_data)
    SELECT id, target, expected, $5, data FROM moved
)
SELECT id, batch_id, target, expected FROM moved

-- name: engine_record_submit_retry
-- The submission's outcome is still unknown (retryable failure): keep the intent, count the
-- attempt, and try again later with the same key.
UPDATE irp_job AS j
   SET submission_attempts = j.submission_attempts + 1, last_error = $2,
       next_poll_at = now() + make_interval(secs => $3), updated_ts = now()
 WHERE j.id = $1 AND j.status IN ('SUBMITTING', 'CANCEL_REQUESTED')
   AND j.moodys_workflow_id IS NULL AND irp_owns_job($4, j.id)

-- name: engine_defer_submission
-- Nothing was sent (Moody's circuit is open): keep the intent and the attempt count, look
-- again in $3 seconds.
UPDATE irp_job AS j
   SET last_error = $2, next_poll_at = now() + make_interval(secs => $3), updated_ts = now()
 WHERE j.id = $1 AND j.status IN ('SUBMITTING', 'CANCEL_REQUESTED')
   AND j.moodys_workflow_id IS NULL AND irp_owns_job($4, j.id)

-- name: engine_rekey
-- The old key has expired and Moody's has no workflow by this job's name: a new key may be
-- used for the next attempt (never while the old one could still be replayed).
UPDATE irp_job AS j
   SET idempotency_key = $2, submitting_ts = now(), updated_ts = now()
 WHERE j.id = $1 AND j.idempotency_key = $3 AND j.moodys_workflow_id IS NULL
   AND irp_owns_job($4, j.id)

-- name: engine_in_flight_jobs
-- In-flight jobs of the given shards, for the tracker's schedule.
SELECT j.id, j.batch_id, j.status, j.moodys_workflow_id,
       extract(epoch FROM now() - j.status_changed_ts)::float8 AS seconds_in_status,
       j.poll_count
  FROM irp_job j
 WHERE j.engine_phase IN ('in_flight', 'cancel')  -- SUBMITTED … CANCELLING
   AND j.moodys_workflow_id IS NOT NULL
   AND irp_job_shard(j.id) = ANY($1::smallint[])

-- name: engine_job_states
-- Current status of specific jobs (after a compare-and-set lost a race).
SELECT j.id, j.batch_id, j.status, j.moodys_workflow_id,
       extract(epoch FROM now() - j.status_changed_ts)::float8 AS seconds_in_status,
       j.poll_count
  FROM irp_job j
 WHERE j.id = ANY($1::bigint[])

-- name: engine_apply_reports
-- Moves report_<status>: statuses reported by Moody's, applied in bulk with their
-- tracking-log rows. $6 progress, $7 seconds to the next poll (NULL: none when the target
-- is terminal, else keep), $8 last_error (NULL keeps it), $9 terminal statuses, $10 worker
-- (NULL: not fenced by shard leases; an operator's `job track`).
WITH owned AS MATERIALIZED (
    SELECT irp_owned_shards($10) AS shards
), input AS (
    SELECT t.* FROM unnest($1::bigint[], string_to_array($2::text, ','),
                           string_to_array($3::text, ','), $4::jsonb[], $6::int[],
                           $7::float8[], $8::text[])
        AS t(id, expected, target, data, progress, poll_in, error), owned o
     WHERE $10::text IS NULL OR irp_job_shard(t.id) = ANY (o.shards)
), moved AS (
    UPDATE irp_job AS j
       SET status = i.target,
           progress = coalesce(i.progress, j.progress),
           last_error = coalesce(i.error, j.last_error),
           last_tracked_ts = now(),
           next_poll_at = CASE WHEN i.poll_in IS NOT NULL
                                   THEN now() + make_interval(secs => i.poll_in)
                               WHEN i.target = ANY ($9::text[]) THEN NULL
                               ELSE j.next_poll_at END,
           poll_count = j.poll_count + 1,
           status_changed_ts = now(),
           completed_ts = CASE WHEN i.target = ANY ($9::text[]) THEN now()
                               ELSE j.completed_ts END,
           updated_ts = now()
      FROM input i
     WHERE j.id = i.id AND j.status = i.expected
 RETURNING j.id, j.batch_id, j.moodys_workflow_id, i.expected, i.target, i.data
), logged AS (
    INSERT INTO irp_job_tracking_log
           (job_id, moodys_workflow_id, job_status, previous_status, source, tracking_data)
    SELECT id, moodys_workflow_id, target, expected, $5, data FROM moved
)
SELECT id, batch_id, target, expected FROM moved

-- name: engine_record_polls
-- Polls that found no status change: bookkeeping only (no status write, no audit row).
-- A NULL delay keeps next_poll_at (an operator's `job track`).
UPDATE irp_job AS j
   SET last_tracked_ts = now(),
       next_poll_at = coalesce(now() + make_interval(secs => i.poll_in), j.next_poll_at),
       progress = coalesce(i.progress, j.progress),
       poll_count = j.poll_count + 1
  FROM unnest($1::bigint[], string_to_array($2::text, ','), $3::int[], $4::float8[])
       AS i(id, expected, progress, poll_in)
 WHERE j.id = i.id AND j.status = i.expected

-- name: engine_cancels_to_send
SELECT j.id, j.batch_id, j.moodys_workflow_id
  FROM irp_job j
 WHERE j.engine_phase = 'cancel' AND j.moodys_workflow_id IS NOT NULL
   AND (j.next_poll_at IS NULL OR j.next_poll_at <= now() OR j.last_error IS NULL)
   AND irp_job_shard(j.id) = ANY($1::smallint[])
   AND NOT (j.id = ANY($2::bigint[]))
 ORDER BY j.id
 LIMIT $3

-- name: engine_cancel_sent
-- Moves cancel_sent (CANCEL_REQUESTED → CANCELLING): Moody's accepted the cancel.
-- $6 seconds to the next poll, $7 worker.
WITH owned AS MATERIALIZED (
    SELECT irp_owned_shards($7) AS shards
), input AS (
    SELECT t.* FROM unnest($1::bigint[], string_to_array($2::text, ','),
                           string_to_array($3::text, ','), $4::jsonb[], $6::float8[])
        AS t(id, expected, target, data, poll_in), owned o
     WHERE irp_job_shard(t.id) = ANY (o.shards)
), moved AS (
    UPDATE irp_job AS j
       SET status = i.target, status_changed_ts = now(), updated_ts = now(),
           last_error = NULL, next_poll_at = now() + make_interval(secs => i.poll_in)
      FROM input i
     WHERE j.id = i.id AND j.status = i.expected
 RETURNING j.id, j.batch_id, j.moodys_workflow_id, i.expected, i.target, i.data
), logged AS (
    INSERT INTO irp_job_tracking_log
           (job_id, moodys_workflow_id, job_status, previous_status, source, tracking_data)
    SELECT id, moodys_workflow_id, target, expected, $5, data FROM moved
)
SELECT id, batch_id, target, expected FROM moved

-- name: engine_cancel_retry
UPDATE irp_job AS j
   SET last_error = $2, next_poll_at = now() + make_interval(secs => $3), updated_ts = now()
 WHERE j.id = $1 AND j.status = 'CANCEL_REQUESTED'

-- name: engine_batches_to_reconcile
-- Batches whose outcome may be stale: active ones, and settled ones with unsettled jobs.
SELECT b.id FROM irp_batch b WHERE b.status = 'ACTIVE' ORDER BY b.id

-- name: engine_job_counts
-- Jobs by status across all batches, from the live counts (cheap at any size). Skipped jobs
-- (replaced by a resubmission, or skipped by an operator) count under SKIPPED, not under the
-- status they stopped in: they are no failure of their batch (as in a recon summary).
SELECT CASE WHEN skipped THEN 'SKIPPED' ELSE status END AS status, sum(n)::bigint AS n
  FROM irp_batch_job_count
 GROUP BY 1 HAVING sum(n) > 0 ORDER BY 1

-- name: engine_note_missing
-- Moody's answered a status lookup without these jobs' workflows: remember when that was
-- first seen (kept across restarts). Returns seconds since the first "missing" answer.
WITH owned AS MATERIALIZED (
    SELECT irp_owned_shards($3) AS shards
)
UPDATE irp_job AS j
   SET moodys_missing_since = coalesce(j.moodys_missing_since, now())
  FROM unnest($1::bigint[], $2::text[]) AS i(id, expected), owned o
 WHERE j.id = i.id AND j.status = i.expected AND irp_job_shard(i.id) = ANY (o.shards)
RETURNING j.id, extract(epoch FROM now() - j.moodys_missing_since)::float8 AS seconds_missing

-- name: engine_found_again
-- Moody's answered for these workflows again: the "missing" count starts over.
UPDATE irp_job SET moodys_missing_since = NULL
 WHERE id = ANY($1::bigint[]) AND moodys_missing_since IS NOT NULL

-- name: engine_missing_workflows
-- In-flight jobs of the given shards whose workflow Moody's did not return last time.
SELECT j.id, extract(epoch FROM now() - j.moodys_missing_since)::float8 AS seconds_missing
  FROM irp_job j
 WHERE j.moodys_missing_since IS NOT NULL AND j.engine_phase IN ('in_flight', 'cancel')
   AND irp_job_shard(j.id) = ANY($1::smallint[])

-- name: engine_declare_lost
-- Moves declare_lost (→ ERROR): Moody's has not known these workflows for at least $7
-- seconds (measured by this database's clock from the first "missing" answer); the reason
-- goes to last_error. $6 reasons, $7 seconds, $8 worker.
WITH owned AS MATERIALIZED (
    SELECT irp_owned_shards($8) AS shards
), input AS (
    SELECT t.* FROM unnest($1::bigint[], string_to_array($2::text, ','),
                           string_to_array($3::text, ','), $4::jsonb[], $6::text[])
        AS t(id, expected, target, data, error), owned o
     WHERE irp_job_shard(t.id) = ANY (o.shards)
), moved AS (
    UPDATE irp_job AS j
       SET status = i.target, last_error = i.error, next_poll_at = NULL,
           status_changed_ts = now(), completed_ts = now(), updated_ts = now()
      FROM input i
     WHERE j.id = i.id AND j.status = i.expected
       AND j.moodys_missing_since <= now() - make_interval(secs => $7)
 RETURNING j.id, j.batch_id, j.moodys_workflow_id, i.expected, i.target, i.data,
           j.moodys_missing_since
), logged AS (
    INSERT INTO irp_job_tracking_log
           (job_id, moodys_workflow_id, job_status, previous_status, source, tracking_data)
    SELECT id, moodys_workflow_id, target, expected, $5,
           coalesce(data, '{}'::jsonb) || jsonb_build_object('missing_since', moodys_missing_since)
      FROM moved
)
SELECT id, batch_id, target, expected FROM moved

