-- irp_job_report reads `overridden` from the job's configuration through the configurations
-- of the job's own batch (issue 17, history). Migration 0060 made it a primary-key probe per
-- job, which stopped the hash of every job configuration ever made, but each probe descends
-- the primary key of the whole table (a level deeper, and colder, with every tenfold of
-- history): measured on 1,000,000 finished jobs, the probes alone went from 13-19 to 24-30 ms
-- of server CPU for a 10,000-job batch's report. Joined on (batch_id, id), the planner reads
-- the batch's configurations as one range of irp_job_configuration_batch_idx for a whole
-- report, and still probes per row for a page. A job's configuration always belongs to the
-- job's batch (every path that creates a job takes the configuration from its batch, and
-- `job create --job-configuration` refuses one of another batch), so the answer is the same.
CREATE OR REPLACE VIEW irp_job_report AS
SELECT j.id AS job_id,
       j.batch_id,
       b.batch_type,
       b.status AS batch_status,
       b.configuration_id,
       c.cycle_id,
       cy.cycle_name,
       j.job_configuration_id,
       jc.overridden,
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
  JOIN irp_cycle cy ON cy.id = c.cycle_id
  LEFT JOIN irp_job_configuration jc
    ON jc.batch_id = j.batch_id AND jc.id = j.job_configuration_id;
