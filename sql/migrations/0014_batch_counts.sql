-- Live per-batch counts, maintained in the same transaction as every write to irp_job and
-- irp_job_configuration by statement-level triggers (one aggregate per statement, not per
-- row). `irpctl batch show` and `status` read these few rows instead of counting 100,000 jobs.

CREATE TABLE irp_batch_job_count (
    batch_id  BIGINT      NOT NULL REFERENCES irp_batch (id),
    status    VARCHAR(20) NOT NULL,
    skipped   BOOLEAN     NOT NULL,
    -- INITIATED jobs split by whether they were asked to be submitted
    requested BOOLEAN     NOT NULL,
    n         BIGINT      NOT NULL,
    PRIMARY KEY (batch_id, status, skipped, requested)
);

CREATE TABLE irp_batch_config_count (
    batch_id BIGINT  NOT NULL REFERENCES irp_batch (id),
    skipped  BOOLEAN NOT NULL,
    n        BIGINT  NOT NULL,
    PRIMARY KEY (batch_id, skipped)
);

CREATE FUNCTION irp_count_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH delta AS (
        SELECT batch_id, status, skipped,
               (status = 'INITIATED' AND submit_requested_ts IS NOT NULL) AS requested,
               1 AS d
          FROM new_rows
        UNION ALL
        SELECT batch_id, status, skipped,
               (status = 'INITIATED' AND submit_requested_ts IS NOT NULL), -1
          FROM old_rows
    ), summed AS (
        SELECT batch_id, status, skipped, requested, sum(d) AS d
          FROM delta GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0
    )
    INSERT INTO irp_batch_job_count AS c (batch_id, status, skipped, requested, n)
    SELECT batch_id, status, skipped, requested, d FROM summed ORDER BY 1, 2, 3, 4
    ON CONFLICT (batch_id, status, skipped, requested) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE FUNCTION irp_count_configs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH delta AS (
        SELECT batch_id, skipped, 1 AS d FROM new_rows
        UNION ALL
        SELECT batch_id, skipped, -1 FROM old_rows
    ), summed AS (
        SELECT batch_id, skipped, sum(d) AS d FROM delta GROUP BY 1, 2 HAVING sum(d) <> 0
    )
    INSERT INTO irp_batch_config_count AS c (batch_id, skipped, n)
    SELECT batch_id, skipped, d FROM summed ORDER BY 1, 2
    ON CONFLICT (batch_id, skipped) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

-- INSERT statements have no OLD transition table, so they get their own small functions.
CREATE FUNCTION irp_count_jobs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO irp_batch_job_count AS c (batch_id, status, skipped, requested, n)
    SELECT batch_id, status, skipped,
           (status = 'INITIATED' AND submit_requested_ts IS NOT NULL), count(*)
      FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (batch_id, status, skipped, requested) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE FUNCTION irp_count_configs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO irp_batch_config_count AS c (batch_id, skipped, n)
    SELECT batch_id, skipped, count(*) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (batch_id, skipped) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE TRIGGER irp_job_counted_insert AFTER INSERT ON irp_job
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION irp_count_jobs_inserted();
CREATE TRIGGER irp_job_counted_update AFTER UPDATE ON irp_job
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION irp_count_jobs();
CREATE TRIGGER irp_job_configuration_counted_insert AFTER INSERT ON irp_job_configuration
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION irp_count_configs_inserted();
CREATE TRIGGER irp_job_configuration_counted_update AFTER UPDATE ON irp_job_configuration
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION irp_count_configs();

-- Backfill for databases that already hold jobs.
INSERT INTO irp_batch_job_count (batch_id, status, skipped, requested, n)
SELECT batch_id, status, skipped, (status = 'INITIATED' AND submit_requested_ts IS NOT NULL),
       count(*)
  FROM irp_job GROUP BY 1, 2, 3, 4;
INSERT INTO irp_batch_config_count (batch_id, skipped, n)
SELECT batch_id, skipped, count(*) FROM irp_job_configuration GROUP BY 1, 2;

-- The batch report from the live counts: cheap at any batch size. fulfilled_configs counts
-- non-skipped FINISHED/FORCED_OK jobs (capped at the configurations that need one), which is
-- exact whenever each configuration has one live job (batches created by transformers, and
-- resubmissions, which skip the job they replace); `recon_batch` counts it exactly.
DROP VIEW irp_batch_report;
CREATE VIEW irp_batch_report AS
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
           WHEN coalesce(js.queued_jobs, 0) + coalesce(js.submitting_jobs, 0)
                + coalesce(js.in_flight_jobs, 0) + coalesce(js.cancelling_jobs, 0) > 0
               THEN 'TRACK'
           WHEN coalesce(js.finished_jobs, 0) + coalesce(js.forced_ok_jobs, 0)
                >= coalesce(cf.total_configs, 0) THEN 'RECONCILE'
           WHEN coalesce(js.failed_jobs, 0) > 0
               THEN CASE WHEN b.status = 'FAILED' THEN 'REVIEW_FAILURES' ELSE 'RECONCILE' END
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
