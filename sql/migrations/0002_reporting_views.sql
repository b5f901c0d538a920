-- Reporting views for operators: where each job and batch stands and what to do next.
-- Status names mirror statemachines/ (tests/integration/ops check every status is covered).

-- One row per job. next_action:
--   SUBMIT            INITIATED, not skipped, not yet queued for submission
--   WAIT              queued for the dispatcher, or being submitted (SUBMITTING)
--   TRACK             Moody's has it (SUBMITTED .. RUNNING, CANCEL_REQUESTED, CANCELLING)
--   RESUBMIT_OR_SKIP  FAILED, ERROR or CANCELLED and not skipped: it blocks its batch
--   NONE              FINISHED, FORCED_OK, or skipped
CREATE VIEW irp_job_report AS
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
  JOIN irp_job_configuration jc ON jc.id = j.job_configuration_id
  JOIN irp_configuration c ON c.id = b.configuration_id
  JOIN irp_cycle cy ON cy.id = c.cycle_id;

-- One row per batch. Counts of jobs are of non-skipped jobs unless named skipped/total.
-- progress_pct = fulfilled_configs / total_configs (non-skipped job configurations with a
-- non-skipped FINISHED or FORCED_OK job), as reconciliation counts them. next_action:
--   SUBMIT            INITIATED, or jobs INITIATED and not yet queued (e.g. resubmitted)
--   TRACK             jobs queued, being submitted, at Moody's or being cancelled
--   RECONCILE         nothing in flight and reconciliation would change the status
--                     (the daemon does it on its own; `recon_batch` does it now)
--   REVIEW_FAILURES   FAILED: look at the failed jobs, then resubmit, skip or force-ok them
--   RESUBMIT_OR_SKIP  CANCELLED, or unfulfilled job configurations with nothing in flight
--                     and nothing failed (e.g. some jobs cancelled)
--   PROCEED           COMPLETED: go on with the next step
CREATE VIEW irp_batch_report AS
SELECT b.id AS batch_id,
       b.batch_type,
       b.status,
       b.configuration_id,
       c.cycle_id,
       cy.cycle_name,
       b.step_id,
       b.created_ts,
       b.submitted_ts,
       b.completed_ts,
       b.updated_ts,
       cfg.total_configs,
       cfg.skipped_configs,
       cfg.fulfilled_configs,
       CASE WHEN cfg.total_configs = 0 THEN 100
            ELSE floor(100.0 * cfg.fulfilled_configs / cfg.total_configs)::integer
       END AS progress_pct,
       js.total_jobs,
       js.skipped_jobs,
       js.unsubmitted_jobs,
       js.queued_jobs,
       js.submitting_jobs,
       js.in_flight_jobs,
       js.cancelling_jobs,
       js.finished_jobs,
       js.forced_ok_jobs,
       js.failed_jobs,
       js.cancelled_jobs,
       COALESCE(sc.status_counts, '{}'::jsonb) AS status_counts,
       lr.recon_ts AS last_recon_ts,
       lr.recon_result AS last_recon_result,
       CASE
           WHEN b.status = 'COMPLETED' THEN 'PROCEED'
           WHEN b.status = 'INITIATED' OR js.unsubmitted_jobs > 0 THEN 'SUBMIT'
           WHEN js.queued_jobs + js.submitting_jobs + js.in_flight_jobs + js.cancelling_jobs > 0
               THEN 'TRACK'
           WHEN cfg.fulfilled_configs = cfg.total_configs THEN 'RECONCILE'
           WHEN js.failed_jobs > 0
               THEN CASE WHEN b.status = 'FAILED' THEN 'REVIEW_FAILURES' ELSE 'RECONCILE' END
           WHEN js.total_jobs > js.skipped_jobs AND js.cancelled_jobs = js.total_jobs - js.skipped_jobs
               THEN CASE WHEN b.status = 'CANCELLED' THEN 'RESUBMIT_OR_SKIP' ELSE 'RECONCILE' END
           ELSE 'RESUBMIT_OR_SKIP'
       END AS next_action
  FROM irp_batch b
  JOIN irp_configuration c ON c.id = b.configuration_id
  JOIN irp_cycle cy ON cy.id = c.cycle_id
  CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE NOT jc.skipped) AS total_configs,
             count(*) FILTER (WHERE jc.skipped) AS skipped_configs,
             count(*) FILTER (
                 WHERE NOT jc.skipped AND EXISTS (
                     SELECT 1 FROM irp_job fj
                      WHERE fj.job_configuration_id = jc.id AND NOT fj.skipped
                        AND fj.status IN ('FINISHED', 'FORCED_OK'))) AS fulfilled_configs
        FROM irp_job_configuration jc
       WHERE jc.batch_id = b.id
  ) cfg
  CROSS JOIN LATERAL (
      SELECT count(*) AS total_jobs,
             count(*) FILTER (WHERE j.skipped) AS skipped_jobs,
             count(*) FILTER (WHERE NOT j.skipped AND j.status = 'INITIATED'
                                AND j.submit_requested_ts IS NULL) AS unsubmitted_jobs,
             count(*) FILTER (WHERE NOT j.skipped AND j.status = 'INITIATED'
                                AND j.submit_requested_ts IS NOT NULL) AS queued_jobs,
             count(*) FILTER (WHERE NOT j.skipped AND j.status = 'SUBMITTING') AS submitting_jobs,
             count(*) FILTER (WHERE NOT j.skipped AND j.status IN
                                ('SUBMITTED', 'QUEUED', 'PENDING', 'RUNNING')) AS in_flight_jobs,
             count(*) FILTER (WHERE NOT j.skipped AND j.status IN
                                ('CANCEL_REQUESTED', 'CANCELLING')) AS cancelling_jobs,
             count(*) FILTER (WHERE NOT j.skipped AND j.status = 'FINISHED') AS finished_jobs,
             count(*) FILTER (WHERE NOT j.skipped AND j.status = 'FORCED_OK') AS forced_ok_jobs,
             count(*) FILTER (WHERE NOT j.skipped AND j.status IN ('FAILED', 'ERROR')) AS failed_jobs,
             count(*) FILTER (WHERE NOT j.skipped AND j.status = 'CANCELLED') AS cancelled_jobs
        FROM irp_job j
       WHERE j.batch_id = b.id
  ) js
  LEFT JOIN LATERAL (
      SELECT jsonb_object_agg(counted.status, counted.jobs) AS status_counts
        FROM (SELECT sj.status, count(*) AS jobs
                FROM irp_job sj
               WHERE sj.batch_id = b.id AND NOT sj.skipped
               GROUP BY sj.status) counted
  ) sc ON true
  LEFT JOIN LATERAL (
      SELECT r.recon_ts, r.recon_result
        FROM irp_batch_recon_log r
       WHERE r.batch_id = b.id
       ORDER BY r.recon_ts DESC, r.id DESC
       LIMIT 1
  ) lr ON true;
