-- name: batch_configuration_for_create
SELECT c.id, c.status, c.configuration_data, c.cycle_id, cy.cycle_name, cy.status AS cycle_status
  FROM irp_configuration c
  JOIN irp_cycle cy ON cy.id = c.cycle_id
 WHERE c.id = $1

-- name: batch_configuration_lock
-- Holds the configuration (no concurrent replacement or deletion) while its batch is created.
SELECT c.status, cy.status AS cycle_status
  FROM irp_configuration c
  JOIN irp_cycle cy ON cy.id = c.cycle_id
 WHERE c.id = $1
   FOR SHARE OF c

-- name: batch_insert_with_jobs
-- One statement: the batch, one job configuration per element of $4 (a JSON array, in order)
-- and one INITIATED job per job configuration. $5: the reason for a deliberate duplicate
-- (NULL: the one-live-batch guard irp_batch_one_live applies); $6: the plan's step run.
WITH new_batch AS (
    INSERT INTO irp_batch (configuration_id, batch_type, step_id, duplicate_reason, step_run_id)
    VALUES ($1, $2, $3, $5, $6)
    RETURNING id, status, created_ts
), new_configurations AS (
    INSERT INTO irp_job_configuration (batch_id, configuration_id, job_configuration_data)
    SELECT nb.id, $1, item.value
      FROM new_batch nb, jsonb_array_elements($4::jsonb) WITH ORDINALITY AS item (value, ord)
     ORDER BY item.ord
    RETURNING id, batch_id
), new_jobs AS (
    INSERT INTO irp_job (batch_id, job_configuration_id)
    SELECT batch_id, id FROM new_configurations ORDER BY id
    RETURNING id
)
SELECT nb.id AS batch_id, nb.status, nb.created_ts,
       (SELECT count(*) FROM new_configurations) AS job_configurations,
       (SELECT count(*) FROM new_jobs) AS jobs
  FROM new_batch nb

-- name: batch_lock
-- Lock one batch (lock order, docs/operations.md: batch, then job, then job configuration;
-- the live-count rows last). FOR NO KEY UPDATE, not FOR UPDATE: the foreign keys of new job,
-- count and recon-log rows take FOR KEY SHARE on their batch, and an engine statement that
-- creates a count row while holding job rows must never wait for an operator who waits for
-- one of those jobs (the deadlock of issue 11). Read what depends on the batch in the NEXT
-- statement: a statement that waited for a lock still sees its old snapshot.
SELECT id, status FROM irp_batch WHERE id = $1 FOR NO KEY UPDATE

-- name: batch_submit_context
-- The (locked) batch, its configuration and cycle statuses, and how many jobs a submission
-- would queue.
SELECT b.id, b.status, b.configuration_id, c.status AS configuration_status,
       c.cycle_id, cy.cycle_name, cy.status AS cycle_status,
       (SELECT count(*) FROM irp_job j
         WHERE j.batch_id = b.id AND j.status = 'INITIATED' AND NOT j.skipped
           AND j.submit_requested_ts IS NULL) AS submittable_jobs
  FROM irp_batch b
  JOIN irp_configuration c ON c.id = b.configuration_id
  JOIN irp_cycle cy ON cy.id = c.cycle_id
 WHERE b.id = $1

-- name: batch_queue_jobs
-- Ask the dispatcher to submit the batch's INITIATED, non-skipped, not yet queued jobs.
UPDATE irp_job
   SET submit_requested_ts = now(), updated_ts = now()
 WHERE batch_id = $1 AND status = 'INITIATED' AND NOT skipped AND submit_requested_ts IS NULL
RETURNING id AS job_id, status

-- name: batch_mark_submitted
-- Compare-and-set the batch $1 from $2 to $3 (submitted_ts kept from the first submission,
-- completed_ts cleared), and its configuration $4 from $5 to $6.
WITH moved AS (
    UPDATE irp_batch
       SET status = $3::text, submitted_ts = COALESCE(submitted_ts, now()), completed_ts = NULL,
           updated_ts = now()
     WHERE id = $1 AND status = $2::text
    RETURNING id, status, submitted_ts, configuration_id
), activated AS (
    UPDATE irp_configuration c
       SET status = $6::text, updated_ts = now()
      FROM moved
     WHERE c.id = $4 AND c.status = $5::text AND $5::text <> $6::text
    RETURNING c.id
)
SELECT m.id, m.status, m.submitted_ts, (SELECT count(*) FROM activated) AS configurations_activated
  FROM moved m

-- name: batch_read
SELECT b.id, b.configuration_id, c.cycle_id, cy.cycle_name, b.batch_type, b.step_id, b.status,
       b.created_ts, b.submitted_ts, b.completed_ts, b.updated_ts,
       (SELECT sr.step_name FROM irp_step_run sr WHERE sr.id = b.step_run_id) AS step_name,
       (SELECT coalesce(sum(n), 0) FROM irp_batch_config_count cc WHERE cc.batch_id = b.id)
           AS job_configurations,
       (SELECT coalesce(sum(n), 0) FROM irp_batch_job_count jc WHERE jc.batch_id = b.id) AS jobs
  FROM irp_batch b
  JOIN irp_configuration c ON c.id = b.configuration_id
  JOIN irp_cycle cy ON cy.id = c.cycle_id
 WHERE b.id = $1

-- name: batch_exists
SELECT true FROM irp_batch WHERE id = $1

-- name: batch_list
-- $1: status or NULL, $2: configuration id or NULL.
SELECT b.id, b.configuration_id, c.cycle_id, b.batch_type, b.step_id, b.status, b.created_ts,
       b.submitted_ts, b.completed_ts, b.updated_ts
  FROM irp_batch b
  JOIN irp_configuration c ON c.id = b.configuration_id
 WHERE ($1::text IS NULL OR b.status = $1)
   AND ($2::bigint IS NULL OR b.configuration_id = $2)
 ORDER BY b.id

-- name: batch_jobs
-- $1 batch, $2 skipped filter or NULL, $3 status filter or NULL. Narrow: no request/response.
-- The columns of page_batch_jobs (a skipped job names the resubmission that replaced it).
SELECT j.id, j.batch_id, j.job_configuration_id, j.parent_job_id, j.status, j.skipped,
       j.skipped_reason_txt, j.forced_ok_reason_txt, j.moodys_workflow_id, j.progress,
       j.last_error, j.poll_count, j.submit_requested_ts, j.submitted_ts, j.last_tracked_ts,
       j.status_changed_ts, j.completed_ts, j.created_ts, j.updated_ts,
       CASE WHEN j.skipped THEN (SELECT min(c.id) FROM irp_job c WHERE c.parent_job_id = j.id)
       END AS replaced_by_job_id
  FROM irp_job j
 WHERE j.batch_id = $1
   AND ($2::boolean IS NULL OR j.skipped = $2)
   AND ($3::text IS NULL OR j.status = $3)
 ORDER BY j.id

-- name: batch_job_configurations
-- $1 batch, $2 skipped filter or NULL.
SELECT id, batch_id, configuration_id, job_configuration_data, skipped, skipped_reason_txt,
       overridden, override_reason_txt, parent_job_configuration_id,
       override_job_configuration_id, created_ts, updated_ts
  FROM irp_job_configuration
 WHERE batch_id = $1
   AND ($2::boolean IS NULL OR skipped = $2)
 ORDER BY id

-- name: recon_job_configurations
-- Rows of columns (arrays) of up to 5,000 configurations each, not a row per configuration:
-- 100,000 row objects were what the garbage collector scanned in the daemon while a
-- reconciliation ran, and one row of 100,000 would be decoded in one event-loop step
-- (docs/performance.md, *Steady-state loop lag*).
SELECT array_agg(id ORDER BY id) AS ids, array_agg(skipped ORDER BY id) AS skipped
  FROM irp_job_configuration
 WHERE batch_id = $1
 GROUP BY id / 5000

-- name: recon_jobs
-- Rows of columns, as recon_job_configurations; each column in the order of the job ids.
SELECT array_agg(id ORDER BY id) AS ids,
       array_agg(job_configuration_id ORDER BY id) AS configuration_ids,
       array_agg(status ORDER BY id) AS statuses,
       array_agg(skipped ORDER BY id) AS skipped,
       -- only jobs in $2 (the failed statuses, whose workflows the summary lists) carry
       -- theirs: no 100,000 workflow-id strings decoded for nothing (docs/performance.md,
       -- *Memory per tracked job*)
       array_agg(CASE WHEN status = ANY($2::text[]) THEN moodys_workflow_id END ORDER BY id)
           AS workflow_ids
  FROM irp_job
 WHERE batch_id = $1
 GROUP BY id / 5000

-- name: recon_record
-- The recon log row and the batch's compare-and-set from $2 to $3 ($4: the computed result,
-- $5: the summary, $6: the statuses that set completed_ts: when the batch reaches one of them,
-- FAILED then COMPLETED after skips included).
WITH moved AS (
    UPDATE irp_batch
       SET status = $3::text,
           completed_ts = CASE WHEN $3::text <> ALL ($6::text[]) THEN NULL
                               WHEN $3::text = $2::text THEN COALESCE(completed_ts, now())
                               ELSE now() END,
           updated_ts = now()
     WHERE id = $1 AND status = $2::text
    RETURNING id, status, completed_ts
), logged AS (
    INSERT INTO irp_batch_recon_log (batch_id, recon_result, recon_summary, previous_status)
    SELECT id, $4::text, $5, $2::text FROM moved
    RETURNING id, recon_ts
)
SELECT m.id AS batch_id, m.status, m.completed_ts, l.id AS recon_log_id, l.recon_ts
  FROM moved m, logged l

-- name: recon_state
-- The batch's status, its live counts (non-skipped jobs by status, skipped jobs, non-skipped
-- job configurations) and its last recon log row: the daemon's cheap check of whether a
-- full reconciliation could change anything.
SELECT b.status,
       (SELECT jsonb_object_agg(s.status, s.n)
          FROM (SELECT c.status, sum(c.n) AS n FROM irp_batch_job_count c
                 WHERE c.batch_id = b.id AND NOT c.skipped
                 GROUP BY c.status HAVING sum(c.n) > 0) s) AS counts,
       (SELECT coalesce(sum(c.n), 0) FROM irp_batch_job_count c
         WHERE c.batch_id = b.id AND c.skipped) AS skipped_jobs,
       (SELECT coalesce(sum(cc.n), 0) FROM irp_batch_config_count cc
         WHERE cc.batch_id = b.id AND NOT cc.skipped) AS total_configs,
       last.recon_result AS last_result,
       last.recon_summary AS last_summary
  FROM irp_batch b
  LEFT JOIN LATERAL (
      SELECT r.recon_result, r.recon_summary
        FROM irp_batch_recon_log r
       WHERE r.batch_id = b.id
       ORDER BY r.recon_ts DESC, r.id DESC
       LIMIT 1
  ) last ON true
 WHERE b.id = $1

-- name: recon_last
-- The batch's last recon log row (what it computed and summarised).
SELECT r.recon_result, r.recon_summary
  FROM irp_batch_recon_log r
 WHERE r.batch_id = $1
 ORDER BY r.recon_ts DESC, r.id DESC
 LIMIT 1

-- name: batch_live_of_type
-- The live batch (not CANCELLED, not a deliberate duplicate) of a type on a configuration.
SELECT id, status FROM irp_batch
 WHERE configuration_id = $1 AND batch_type = $2 AND status <> 'CANCELLED'
   AND duplicate_reason IS NULL

-- name: batch_audit_insert
-- $1 batch id, $2 action, $3 reason, $4 actor, $5 the batch as it was (JSON)
INSERT INTO irp_batch_audit_log (batch_id, action, reason, actor, batch)
VALUES ($1, $2, $3, $4, $5::jsonb)

-- name: batch_delete_context
-- A locked batch and whether any of its jobs ever reached the dispatcher or Moody's.
SELECT b.id, b.status, b.batch_type, b.configuration_id, b.created_ts, b.step_run_id,
       (SELECT count(*) FROM irp_job j WHERE j.batch_id = b.id) AS jobs,
       (SELECT count(*) FROM irp_job j
         WHERE j.batch_id = b.id
           AND (j.status <> 'INITIATED' OR j.submit_requested_ts IS NOT NULL
                OR j.idempotency_key IS NOT NULL)) AS submitted_jobs
  FROM irp_batch b
 WHERE b.id = $1

-- name: batch_delete_rows
-- Remove a never-submitted batch: tracking and recon rows, jobs, job configurations, batch.
WITH gone_tracking AS (
    DELETE FROM irp_job_tracking_log t USING irp_job j WHERE t.job_id = j.id AND j.batch_id = $1
), gone_recon AS (
    DELETE FROM irp_batch_recon_log WHERE batch_id = $1
), gone_jobs AS (
    DELETE FROM irp_job WHERE batch_id = $1 RETURNING id
)
SELECT count(*) FROM gone_jobs

-- name: batch_delete_configurations_and_batch
-- After batch_delete_rows: the job configurations, the live counts and the batch itself.
WITH gone_configurations AS (
    DELETE FROM irp_job_configuration WHERE batch_id = $1
), gone_job_counts AS (
    DELETE FROM irp_batch_job_count WHERE batch_id = $1
), gone_config_counts AS (
    DELETE FROM irp_batch_config_count WHERE batch_id = $1
)
DELETE FROM irp_batch WHERE id = $1

-- name: batch_unfinished_jobs
-- Jobs of a batch an operator's cancel still has to stop (not terminal), in id order.
SELECT id FROM irp_job
 WHERE batch_id = $1
   AND status NOT IN ('FINISHED', 'FAILED', 'CANCELLED', 'FORCED_OK', 'ERROR')
 ORDER BY id

-- name: batch_withdraw
-- An operator withdrew a batch never submitted: compare-and-set $2 → $3 (CANCELLED).
UPDATE irp_batch SET status = $3::text, completed_ts = now(), updated_ts = now()
 WHERE id = $1 AND status = $2::text
RETURNING id, status
