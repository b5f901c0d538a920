-- Paged listings (keyset pagination, irpd/ops/listings.py). Every listing is ordered by an
-- immutable key (the row's id); the page after key $k is "key > $k ORDER BY key LIMIT n", an
-- index range scan whose cost follows the page, not the table. Each asks for one row more
-- than the page so the caller knows whether another page follows.

-- name: page_cycles
-- $1 status or NULL, $2 after id (0: from the start), $3 rows.
SELECT cy.id, cy.cycle_name, cy.status, cy.created_ts, cy.archived_ts,
       (SELECT count(*) FROM irp_configuration c WHERE c.cycle_id = cy.id) AS configurations
  FROM irp_cycle cy
 WHERE ($1::text IS NULL OR cy.status = $1)
   AND cy.id > $2
 ORDER BY cy.id
 LIMIT $3

-- name: page_configurations
-- $1 cycle id or NULL, $2 status or NULL, $3 after id, $4 rows. Without the configuration data.
SELECT c.id, c.cycle_id, cy.cycle_name, c.configuration_file_name, c.status, c.file_sha256,
       c.created_ts, c.updated_ts,
       (SELECT count(*) FROM irp_batch b WHERE b.configuration_id = c.id) AS batches
  FROM irp_configuration c
  JOIN irp_cycle cy ON cy.id = c.cycle_id
 WHERE ($1::bigint IS NULL OR c.cycle_id = $1)
   AND ($2::text IS NULL OR c.status = $2)
   AND c.id > $3
 ORDER BY c.id
 LIMIT $4

-- name: page_batches
-- $1 status or NULL, $2 configuration id or NULL, $3 after id, $4 rows.
SELECT b.id, b.configuration_id, c.cycle_id, b.batch_type, b.step_id, b.status, b.created_ts,
       b.submitted_ts, b.completed_ts, b.updated_ts
  FROM irp_batch b
  JOIN irp_configuration c ON c.id = b.configuration_id
 WHERE ($1::text IS NULL OR b.status = $1)
   AND ($2::bigint IS NULL OR b.configuration_id = $2)
   AND b.id > $3
 ORDER BY b.id
 LIMIT $4

-- name: page_batch_jobs
-- $1 batch, $2 skipped or NULL, $3 status or NULL, $4 after job id, $5 rows. The narrow
-- columns of batch_jobs; irp_job_batch_page_idx (batch_id, id) serves the range. A skipped job
-- names the job that replaced it (its resubmission; irp_job_parent_idx, skipped rows only).
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
   AND j.id > $4
 ORDER BY j.batch_id, j.id
 LIMIT $5

-- name: page_batch_job_configurations
-- $1 batch, $2 skipped or NULL, $3 after id, $4 rows.
SELECT id, batch_id, configuration_id, job_configuration_data, skipped, skipped_reason_txt,
       overridden, override_reason_txt, parent_job_configuration_id,
       override_job_configuration_id, created_ts, updated_ts
  FROM irp_job_configuration
 WHERE batch_id = $1
   AND ($2::boolean IS NULL OR skipped = $2)
   AND id > $3
 ORDER BY batch_id, id
 LIMIT $4

-- name: page_job_tracking
-- $1 job, $2 after tracking-log id, $3 rows: the job's tracking log, oldest first.
SELECT id, job_id, moodys_workflow_id, job_status, previous_status, source, tracking_data,
       tracked_ts
  FROM irp_job_tracking_log
 WHERE job_id = $1 AND id > $2
 ORDER BY job_id, id
 LIMIT $3

-- name: page_batch_reports
-- $1 batch status or NULL, $2 next action or NULL, $3 cycle id or NULL, $4 after batch id,
-- $5 rows.
SELECT * FROM irp_batch_report
 WHERE ($1::text IS NULL OR status = $1)
   AND ($2::text IS NULL OR next_action = $2)
   AND ($3::bigint IS NULL OR cycle_id = $3)
   AND batch_id > $4
 ORDER BY batch_id
 LIMIT $5

-- name: page_job_reports
-- $1 batch, $2 next action or NULL, $3 job status or NULL, $4 after job id, $5 rows.
SELECT * FROM irp_job_report
 WHERE batch_id = $1
   AND ($2::text IS NULL OR next_action = $2)
   AND ($3::text IS NULL OR status = $3)
   AND job_id > $4
 ORDER BY job_id
 LIMIT $5
