-- The batch outcome rule (issue 11, statemachines/recon.py): a batch is FAILED or CANCELLED
-- only once none of its non-skipped jobs is in flight; until then it stays ACTIVE. The report
-- says a failure at once: next_action is REVIEW_FAILURES as soon as a non-skipped job failed
-- (unless jobs wait to be submitted: SUBMIT), whether or not other jobs still run. Before,
-- an ACTIVE batch with failures said TRACK while jobs ran and RECONCILE once they settled.
-- Same columns as 0014's view; only next_action's order of cases changes.

CREATE OR REPLACE VIEW irp_batch_report AS
WITH jobs AS (
    SELECT batch_id,
           sum(n) AS total_jobs,
           sum(n) FILTER (WHERE skipped) AS skipped_jobs,
           sum(n) FILTER (WHERE NOT skipped AND status = 'INITIATED' AND NOT requested)
               AS unsubmitted_jobs,
           sum(n) FILTER (WHERE NOT skipped AND status = 'INITIATED' AND requested) AS queued_jobs,
           sum(n) FILTER (WHERE NOT skipped AND status = 'SUBMITTING') AS submitting_jobs,
           sum(n) FILTER (WHERE NOT skipped AND status IN
                          ('SUBMITTED', 'QUEUED', 'PENDING', 'RUNNING')) AS in_flight_jobs,
           sum(n) FILTER (WHERE NOT skipped AND status IN
                          ('CANCEL_REQUESTED', 'CANCELLING')) AS cancelling_jobs,
           sum(n) FILTER (WHERE NOT skipped AND status = 'FINISHED') AS finished_jobs,
           sum(n) FILTER (WHERE NOT skipped AND status = 'FORCED_OK') AS forced_ok_jobs,
           sum(n) FILTER (WHERE NOT skipped AND status IN ('FAILED', 'ERROR')) AS failed_jobs,
           sum(n) FILTER (WHERE NOT skipped AND status = 'CANCELLED') AS cancelled_jobs
      FROM irp_batch_job_count GROUP BY batch_id
), by_status AS (
    SELECT batch_id, jsonb_object_agg(status, n) AS status_counts
      FROM (SELECT batch_id, status, sum(n) AS n FROM irp_batch_job_count
             WHERE NOT skipped GROUP BY 1, 2 HAVING sum(n) > 0) s
     GROUP BY batch_id
), configs AS (
    SELECT batch_id,
           coalesce(sum(n) FILTER (WHERE NOT skipped), 0) AS total_configs,
           coalesce(sum(n) FILTER (WHERE skipped), 0) AS skipped_configs
      FROM irp_batch_config_count GROUP BY batch_id
)
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
       coalesce(cf.total_configs, 0)::bigint AS total_configs,
       coalesce(cf.skipped_configs, 0)::bigint AS skipped_configs,
       least(coalesce(js.finished_jobs, 0) + coalesce(js.forced_ok_jobs, 0),
             coalesce(cf.total_configs, 0))::bigint AS fulfilled_configs,
       CASE WHEN coalesce(cf.total_configs, 0) = 0 THEN 100
            ELSE floor(100.0 * least(coalesce(js.finished_jobs, 0) + coalesce(js.forced_ok_jobs, 0),
                                     cf.total_configs) / cf.total_configs)::integer
       END AS progress_pct,
       coalesce(js.total_jobs, 0)::bigint AS total_jobs,
       coalesce(js.skipped_jobs, 0)::bigint AS skipped_jobs,
       coalesce(js.unsubmitted_jobs, 0)::bigint AS unsubmitted_jobs,
       coalesce(js.queued_jobs, 0)::bigint AS queued_jobs,
       coalesce(js.submitting_jobs, 0)::bigint AS submitting_jobs,
       coalesce(js.in_flight_jobs, 0)::bigint AS in_flight_jobs,
       coalesce(js.cancelling_jobs, 0)::bigint AS cancelling_jobs,
       coalesce(js.finished_jobs, 0)::bigint AS finished_jobs,
       coalesce(js.forced_ok_jobs, 0)::bigint AS forced_ok_jobs,
       coalesce(js.failed_jobs, 0)::bigint AS failed_jobs,
       coalesce(js.cancelled_jobs, 0)::bigint AS cancelled_jobs,
       coalesce(bs.status_counts, '{}'::jsonb) AS status_counts,
       lr.recon_ts AS last_recon_ts,
       lr.recon_result AS last_recon_result,
       CASE
           WHEN b.status = 'COMPLETED' THEN 'PROCEED'
           WHEN b.status = 'INITIATED' OR coalesce(js.unsubmitted_jobs, 0) > 0 THEN 'SUBMIT'
           -- a failure can be handled (resubmit, force-OK, skip) while other jobs still run:
           -- the batch stays ACTIVE until they settle, the report says so at once
           WHEN coalesce(js.failed_jobs, 0) > 0 THEN 'REVIEW_FAILURES'
           WHEN coalesce(js.queued_jobs, 0) + coalesce(js.submitting_jobs, 0)
                + coalesce(js.in_flight_jobs, 0) + coalesce(js.cancelling_jobs, 0) > 0
               THEN 'TRACK'
           WHEN coalesce(js.finished_jobs, 0) + coalesce(js.forced_ok_jobs, 0)
                >= coalesce(cf.total_configs, 0) THEN 'RECONCILE'
           WHEN coalesce(js.total_jobs, 0) > coalesce(js.skipped_jobs, 0)
                AND coalesce(js.cancelled_jobs, 0)
                    = coalesce(js.total_jobs, 0) - coalesce(js.skipped_jobs, 0)
               THEN CASE WHEN b.status = 'CANCELLED' THEN 'RESUBMIT_OR_SKIP' ELSE 'RECONCILE' END
           ELSE 'RESUBMIT_OR_SKIP'
       END AS next_action
  FROM irp_batch b
  JOIN irp_configuration c ON c.id = b.configuration_id
  JOIN irp_cycle cy ON cy.id = c.cycle_id
  LEFT JOIN jobs js ON js.batch_id = b.id
  LEFT JOIN by_status bs ON bs.batch_id = b.id
  LEFT JOIN configs cf ON cf.batch_id = b.id
  LEFT JOIN LATERAL (
      SELECT r.recon_ts, r.recon_result
        FROM irp_batch_recon_log r
       WHERE r.batch_id = b.id
       ORDER BY r.recon_ts DESC, r.id DESC
       LIMIT 1
  ) lr ON true;
