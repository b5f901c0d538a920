-- The web console (`irpd web`, docs/web.md).
--
-- 1. Live pages: PostgreSQL notifies channel `irpd_batch_changed` (payload: the batch id) when
--    a batch row changes or its live job counts (irp_batch_job_count, migration 0014) change,
--    i.e. when a job of the batch changes status, is skipped, queued or added. The counts table
--    gets a row per changed (batch, status) group per statement, not per job, and identical
--    notifications of one transaction are folded into one, so a tracker chunk of 400 jobs
--    costs a couple of notifications. Nothing is sent for polls that change nothing.
-- 2. Who acted: an operator command run with the setting `irpd.actor` (the web process sets
--    it for the transaction of every action) records the user in its tracking-log row
--    (`tracking_data.actor`), in the same statement as the change.
-- 3. Every action tried from the console or the HTTP API, allowed or refused, in
--    irp_web_action_log.

CREATE FUNCTION irp_notify_batch_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('irpd_batch_changed', NEW.batch_id::text);
    RETURN NULL;
END $$;

CREATE FUNCTION irp_notify_batch_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('irpd_batch_changed', NEW.id::text);
    RETURN NULL;
END $$;

CREATE TRIGGER irp_batch_job_count_notify AFTER INSERT OR UPDATE ON irp_batch_job_count
    FOR EACH ROW EXECUTE FUNCTION irp_notify_batch_count_changed();
CREATE TRIGGER irp_batch_notify AFTER INSERT OR UPDATE ON irp_batch
    FOR EACH ROW EXECUTE FUNCTION irp_notify_batch_changed();

CREATE FUNCTION irp_stamp_actor() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    acting text := current_setting('irpd.actor', true);
BEGIN
    IF acting IS NOT NULL AND acting <> ''
       AND (NEW.tracking_data IS NULL OR jsonb_typeof(NEW.tracking_data) = 'object') THEN
        NEW.tracking_data := coalesce(NEW.tracking_data, '{}'::jsonb)
                             || jsonb_build_object('actor', acting);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER irp_job_tracking_log_actor BEFORE INSERT ON irp_job_tracking_log
    FOR EACH ROW WHEN (NEW.source = 'operator') EXECUTE FUNCTION irp_stamp_actor();

CREATE TABLE irp_web_action_log (
    id            BIGSERIAL PRIMARY KEY,
    actor         VARCHAR(200) NOT NULL,
    role          VARCHAR(20)  NOT NULL,
    action        VARCHAR(40)  NOT NULL,
    target_type   VARCHAR(20)  NOT NULL,
    target_id     BIGINT,
    reason        VARCHAR(1000),
    arguments     JSONB,
    outcome       VARCHAR(10)  NOT NULL,
    error_type    VARCHAR(64),
    error_message TEXT,
    result        JSONB,
    created_ts    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT irp_web_action_outcome_check CHECK (outcome IN ('ok', 'refused'))
);
CREATE INDEX irp_web_action_log_target_idx ON irp_web_action_log (target_type, target_id, id);
COMMENT ON TABLE irp_web_action_log IS
    'every action tried from the web console or its HTTP API, with the acting user';
