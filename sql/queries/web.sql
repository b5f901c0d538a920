-- name: web_cycles
-- Every cycle with its configurations and the progress of its batches (newest first).
SELECT c.id, c.cycle_name, c.status, c.created_ts, c.archived_ts,
       (SELECT count(*) FROM irp_configuration cf WHERE cf.cycle_id = c.id) AS configurations,
       coalesce(r.batches, 0) AS batches,
       coalesce(r.batch_status_counts, '{}'::jsonb) AS batch_status_counts,
       coalesce(r.batch_types, '[]'::jsonb) AS batch_types,
       coalesce(r.total_configs, 0) AS total_configs,
       coalesce(r.fulfilled_configs, 0) AS fulfilled_configs,
       coalesce(r.failed_jobs, 0) AS failed_jobs
  FROM irp_cycle c
  LEFT JOIN LATERAL (
        SELECT count(*) AS batches,
               (SELECT jsonb_object_agg(status, n)
                  FROM (SELECT status, count(*) AS n FROM irp_batch_report
                         WHERE cycle_id = c.id GROUP BY status) s) AS batch_status_counts,
               jsonb_agg(DISTINCT batch_type) AS batch_types,
               sum(total_configs) AS total_configs,
               sum(fulfilled_configs) AS fulfilled_configs,
               sum(failed_jobs) AS failed_jobs
          FROM irp_batch_report WHERE cycle_id = c.id) r ON true
 ORDER BY c.id DESC

-- name: web_cycle_batches
-- $1: cycle id. Batches in cycle order (step, then creation).
SELECT * FROM irp_batch_report
 WHERE cycle_id = $1
 ORDER BY step_id NULLS LAST, batch_id

-- name: web_cycle_timeline
-- $1: cycle id, $2: buckets. Terminal non-skipped jobs by completion time bucket and status.
WITH j AS (
    SELECT j.status, j.completed_ts
      FROM irp_job j
      JOIN irp_batch b ON b.id = j.batch_id
      JOIN irp_configuration cf ON cf.id = b.configuration_id
     WHERE cf.cycle_id = $1 AND j.completed_ts IS NOT NULL AND NOT j.skipped
), r AS (SELECT min(completed_ts) AS lo, max(completed_ts) AS hi FROM j)
SELECT width_bucket(extract(epoch FROM j.completed_ts),
                    extract(epoch FROM r.lo), extract(epoch FROM r.hi) + 1, $2) AS bucket,
       j.status, count(*) AS n, r.lo, r.hi
  FROM j CROSS JOIN r
 GROUP BY 1, 2, 4, 5
 ORDER BY 1, 2

-- name: web_batch_recon_history
-- $1: batch id, $2: rows. Newest first.
SELECT id, recon_result, previous_status, recon_summary, recon_ts
  FROM irp_batch_recon_log WHERE batch_id = $1 ORDER BY id DESC LIMIT $2

-- name: web_batch_run_times
-- $1: batch id, $2: buckets. Seconds from submission to completion of the FINISHED jobs.
WITH t AS (
    SELECT extract(epoch FROM completed_ts - submitted_ts)::float8 AS s
      FROM irp_job
     WHERE batch_id = $1 AND status = 'FINISHED' AND NOT skipped
       AND submitted_ts IS NOT NULL AND completed_ts IS NOT NULL
), r AS (SELECT min(s) AS lo, max(s) AS hi FROM t)
SELECT width_bucket(t.s, r.lo, r.hi + 0.001, $2) AS bucket, count(*) AS n, r.lo, r.hi
  FROM t CROSS JOIN r
 GROUP BY 1, 3, 4
 ORDER BY 1

-- name: web_jobs_by_id
-- The jobs table, keyset-paged. $1 batch, $2 status or NULL, $3 skipped or NULL, $4 search
-- (job id, Moody's workflow id or part of the workflow name) or NULL, $5 after id or NULL,
-- $6 rows. The same filter in every web_jobs_* query.
SELECT j.id, j.status, j.skipped, j.skipped_reason_txt, j.moodys_workflow_id, j.workflow_name,
       j.progress, j.last_error, j.parent_job_id, j.job_configuration_id, j.submitted_ts,
       j.status_changed_ts, j.completed_ts, j.poll_count,
       CASE WHEN j.skipped THEN (SELECT min(c.id) FROM irp_job c WHERE c.parent_job_id = j.id)
       END AS replaced_by_job_id
  FROM irp_job j
 WHERE j.batch_id = $1
   AND ($2::text IS NULL OR j.status = $2)
   AND ($3::boolean IS NULL OR j.skipped = $3)
   AND ($4::text IS NULL OR j.id::text = $4 OR j.moodys_workflow_id = $4
        OR j.workflow_name ILIKE '%' || $4 || '%')
   AND ($5::bigint IS NULL OR j.id > $5)
 ORDER BY j.id
 LIMIT $6

-- name: web_jobs_by_id_desc
SELECT j.id, j.status, j.skipped, j.skipped_reason_txt, j.moodys_workflow_id, j.workflow_name,
       j.progress, j.last_error, j.parent_job_id, j.job_configuration_id, j.submitted_ts,
       j.status_changed_ts, j.completed_ts, j.poll_count,
       CASE WHEN j.skipped THEN (SELECT min(c.id) FROM irp_job c WHERE c.parent_job_id = j.id)
       END AS replaced_by_job_id
  FROM irp_job j
 WHERE j.batch_id = $1
   AND ($2::text IS NULL OR j.status = $2)
   AND ($3::boolean IS NULL OR j.skipped = $3)
   AND ($4::text IS NULL OR j.id::text = $4 OR j.moodys_workflow_id = $4
        OR j.workflow_name ILIKE '%' || $4 || '%')
   AND ($5::bigint IS NULL OR j.id < $5)
 ORDER BY j.id DESC
 LIMIT $6

-- name: web_jobs_by_status
-- $7: the status of the row the page starts after (with $5 its id).
SELECT j.id, j.status, j.skipped, j.skipped_reason_txt, j.moodys_workflow_id, j.workflow_name,
       j.progress, j.last_error, j.parent_job_id, j.job_configuration_id, j.submitted_ts,
       j.status_changed_ts, j.completed_ts, j.poll_count,
       CASE WHEN j.skipped THEN (SELECT min(c.id) FROM irp_job c WHERE c.parent_job_id = j.id)
       END AS replaced_by_job_id
  FROM irp_job j
 WHERE j.batch_id = $1
   AND ($2::text IS NULL OR j.status = $2)
   AND ($3::boolean IS NULL OR j.skipped = $3)
   AND ($4::text IS NULL OR j.id::text = $4 OR j.moodys_workflow_id = $4
        OR j.workflow_name ILIKE '%' || $4 || '%')
   AND ($5::bigint IS NULL OR (j.status, j.id) > ($7::text, $5))
 ORDER BY j.status, j.id
 LIMIT $6

-- name: web_jobs_by_changed
-- Most recently changed first; $7: the status_changed_ts of the row the page starts after.
SELECT j.id, j.status, j.skipped, j.skipped_reason_txt, j.moodys_workflow_id, j.workflow_name,
       j.progress, j.last_error, j.parent_job_id, j.job_configuration_id, j.submitted_ts,
       j.status_changed_ts, j.completed_ts, j.poll_count,
       CASE WHEN j.skipped THEN (SELECT min(c.id) FROM irp_job c WHERE c.parent_job_id = j.id)
       END AS replaced_by_job_id
  FROM irp_job j
 WHERE j.batch_id = $1
   AND ($2::text IS NULL OR j.status = $2)
   AND ($3::boolean IS NULL OR j.skipped = $3)
   AND ($4::text IS NULL OR j.id::text = $4 OR j.moodys_workflow_id = $4
        OR j.workflow_name ILIKE '%' || $4 || '%')
   AND ($5::bigint IS NULL OR (j.status_changed_ts, j.id) < ($7::timestamptz, $5))
 ORDER BY j.status_changed_ts DESC, j.id DESC
 LIMIT $6

-- name: web_attention_batches
-- Batches waiting for an operator, across cycles.
SELECT * FROM irp_batch_report
 WHERE next_action IN ('REVIEW_FAILURES', 'RESUBMIT_OR_SKIP', 'RECONCILE')
 ORDER BY batch_id DESC
 LIMIT $1

-- name: web_attention_jobs
-- $1: rows. FAILED, ERROR or CANCELLED jobs not skipped, found through the live counts (no
-- scan of batches without any).
SELECT j.id, j.batch_id, b.batch_type, cy.cycle_name, j.status, j.moodys_workflow_id,
       j.workflow_name, j.last_error, j.status_changed_ts, 'failed' AS reason
  FROM (SELECT DISTINCT batch_id FROM irp_batch_job_count
         WHERE status IN ('FAILED', 'ERROR', 'CANCELLED') AND NOT skipped AND n > 0) c
  JOIN irp_job j ON j.batch_id = c.batch_id
  JOIN irp_batch b ON b.id = j.batch_id
  JOIN irp_configuration cf ON cf.id = b.configuration_id
  JOIN irp_cycle cy ON cy.id = cf.cycle_id
 WHERE j.status IN ('FAILED', 'ERROR', 'CANCELLED') AND NOT j.skipped
 ORDER BY j.status_changed_ts DESC, j.id DESC
 LIMIT $1

-- name: web_stuck_jobs
-- $1: seconds without a status answer (in flight), $2: seconds submitting, $3: rows. Also
-- jobs whose workflow Moody's no longer lists (moodys_missing_since, migration 0040).
SELECT j.id, j.batch_id, b.batch_type, cy.cycle_name, j.status, j.moodys_workflow_id,
       j.workflow_name, j.last_error, j.status_changed_ts,
       CASE WHEN j.engine_phase = 'submitting' THEN 'submitting too long'
            WHEN j.moodys_missing_since IS NOT NULL THEN 'missing at Moody''s (lost)'
            ELSE 'no status answer' END AS reason
  FROM irp_job j
  JOIN irp_batch b ON b.id = j.batch_id
  JOIN irp_configuration cf ON cf.id = b.configuration_id
  JOIN irp_cycle cy ON cy.id = cf.cycle_id
 WHERE (j.engine_phase IN ('in_flight', 'cancel')
        AND coalesce(j.last_tracked_ts, j.status_changed_ts) < now() - make_interval(secs => $1))
    OR (j.engine_phase IN ('in_flight', 'cancel') AND j.moodys_missing_since IS NOT NULL)
    OR (j.engine_phase = 'submitting'
        AND j.status_changed_ts < now() - make_interval(secs => $2))
 ORDER BY j.status_changed_ts, j.id
 LIMIT $3

-- name: web_batches_live
-- $1: batch ids. What a live page shows of each batch.
SELECT batch_id, status, status_counts, progress_pct, next_action, total_jobs, skipped_jobs,
       failed_jobs, finished_jobs, forced_ok_jobs, cancelled_jobs, in_flight_jobs,
       fulfilled_configs, total_configs, completed_ts, cycle_id
  FROM irp_batch_report WHERE batch_id = ANY($1::bigint[])

-- name: web_action_log_insert
INSERT INTO irp_web_action_log (actor, role, action, target_type, target_id, reason, arguments,
                                outcome, error_type, error_message, result)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id

-- name: web_action_log_for_target
-- $1 target type, $2 target id, $3 rows. Newest first.
SELECT id, actor, role, action, reason, outcome, error_type, error_message, created_ts
  FROM irp_web_action_log
 WHERE target_type = $1 AND target_id = $2
 ORDER BY id DESC LIMIT $3

-- name: web_set_actor
SELECT set_config('irpd.actor', $1, true)

-- name: web_jobs_exact
-- The jobs table's search by exact job id ($3, or NULL) or Moody's workflow id ($2) within
-- batch $1: index lookups (primary key, irp_job_workflow_idx), tried before the scan.
SELECT j.id, j.status, j.skipped, j.skipped_reason_txt, j.moodys_workflow_id, j.workflow_name,
       j.progress, j.last_error, j.parent_job_id, j.job_configuration_id, j.submitted_ts,
       j.status_changed_ts, j.completed_ts, j.poll_count,
       CASE WHEN j.skipped THEN (SELECT min(c.id) FROM irp_job c WHERE c.parent_job_id = j.id)
       END AS replaced_by_job_id
  FROM irp_job j
 WHERE (j.id = $3 OR j.moodys_workflow_id = $2) AND j.batch_id = $1
 ORDER BY j.id

-- name: web_batch_status_count
-- $1 batch, $2 status, $3 skipped or NULL: how many of the batch's jobs (live counts).
SELECT coalesce(sum(n), 0) FROM irp_batch_job_count
 WHERE batch_id = $1 AND status = $2 AND ($3::boolean IS NULL OR skipped = $3)

-- name: web_batch_cycle
-- $1: batch id. Its cycle (the job page's breadcrumb names it, as the batch page does).
SELECT cy.id AS cycle_id, cy.cycle_name
  FROM irp_batch b
  JOIN irp_configuration c ON c.id = b.configuration_id
  JOIN irp_cycle cy ON cy.id = c.cycle_id
 WHERE b.id = $1
