-- Keyset pagination and reports whose cost follows the batch, not the history (issue 17).
--
-- 1. A batch's jobs and job configurations are listed page by page as "batch_id = $1 AND
--    id > $k ORDER BY id LIMIT n": an index on (batch_id, id) serves that as a range scan.
--    It replaces the (batch_id) indexes, which it covers for every other use.
DROP INDEX irp_job_batch_idx;
CREATE INDEX irp_job_batch_idx ON irp_job (batch_id, id);
DROP INDEX irp_job_configuration_batch_idx;
CREATE INDEX irp_job_configuration_batch_idx ON irp_job_configuration (batch_id, id);

-- 2. irp_job_report read `overridden` through a join with irp_job_configuration; with a long
--    history the planner hashed the whole table (a parallel seq scan of every job
--    configuration ever made) for one batch's report. A scalar subquery is a primary-key probe
--    per reported job: the report of a batch costs what the batch has, whatever the history.
CREATE OR REPLACE VIEW irp_job_report AS
SELECT j.id AS job_id,
       j.batch_id,
       b.batch_type,
       b.status AS batch_status,
       b.configuration_id,
       c.cycle_id,
       cy.cycle_name,
       j.job_configuration_id,
       (SELECT jc.overridden FROM irp_job_configuration jc
         WHERE jc.id = j.job_configuration_id) AS overridden,
       j.parent_job_id,
       j.status,
       j.skipped,
       j.skipped_reason_txt,
       j.forced_ok_reason_txt,
       j.progress,
       j.moodys_workflow_id,
       j.submission_attempts,
       j.poll_count,
       j.last_error,
       j.created_ts,
       j.submit_requested_ts,
       j.submitted_ts,
       j.last_tracked_ts,
       j.next_poll_at,
       j.status_changed_ts,
       j.completed_ts,
       floor(extract(epoch FROM now() - j.status_changed_ts))::bigint AS seconds_in_status,
       j.status IN ('FINISHED', 'FAILED', 'CANCELLED', 'FORCED_OK', 'ERROR') AS terminal,
       CASE
           WHEN j.skipped THEN 'NONE'
           WHEN j.status = 'INITIATED' AND j.submit_requested_ts IS NULL THEN 'SUBMIT'
           WHEN j.status IN ('INITIATED', 'SUBMITTING') THEN 'WAIT'
           WHEN j.status IN ('SUBMITTED', 'QUEUED', 'PENDING', 'RUNNING',
                             'CANCEL_REQUESTED', 'CANCELLING') THEN 'TRACK'
           WHEN j.status IN ('FAILED', 'ERROR', 'CANCELLED') THEN 'RESUBMIT_OR_SKIP'
           ELSE 'NONE'
       END AS next_action
  FROM irp_job j
  JOIN irp_batch b ON b.id = j.batch_id
  JOIN irp_configuration c ON c.id = b.configuration_id
  JOIN irp_cycle cy ON cy.id = c.cycle_id;
