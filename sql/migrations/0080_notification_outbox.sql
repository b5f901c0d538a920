-- The notification outbox (docs/monitoring.md). A notification is written in the same
-- transaction as the change that caused it: the triggers below fire inside the statement that
-- moves a batch to an outcome or a job to FAILED/ERROR, whichever code path wrote it, so a
-- change is never committed without its notification, nor a notification without its change.
-- The daemon's sender routes notifications to channels as messages (one per notification, or
-- one digest for many) and delivers each at least once under its own idempotency key.

CREATE TABLE irp_notification (
    id               BIGSERIAL    PRIMARY KEY,
    idempotency_key  UUID         NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    -- batch_completed, batch_failed, batch_cancelled, job_needs_operator, daemon_degraded,
    -- daemon_recovered
    kind             VARCHAR(40)  NOT NULL,
    severity         VARCHAR(10)  NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    batch_id         BIGINT,
    job_id           BIGINT,
    details          JSONB        NOT NULL DEFAULT '{}'::jsonb,
    created_ts       TIMESTAMPTZ  NOT NULL DEFAULT now(),
    -- set when the sender turned it into messages (or found no channel for it)
    routed_ts        TIMESTAMPTZ,
    channels         TEXT[]       NOT NULL DEFAULT '{}'
);

-- the sender's queue: small (routing follows within seconds), so this index stays tiny
CREATE INDEX irp_notification_unrouted_idx ON irp_notification (id) WHERE routed_ts IS NULL;
CREATE INDEX irp_notification_batch_idx ON irp_notification (batch_id) WHERE batch_id IS NOT NULL;

CREATE TABLE irp_notification_message (
    id               BIGSERIAL    PRIMARY KEY,
    channel          VARCHAR(100) NOT NULL,
    -- sent as Idempotency-Key on every attempt: the notification's key for a single message,
    -- a key of its own for a digest
    idempotency_key  UUID         NOT NULL,
    notification_ids BIGINT[]     NOT NULL,
    content          JSONB        NOT NULL,
    status           VARCHAR(10)  NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts         INTEGER      NOT NULL DEFAULT 0,
    next_attempt_ts  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    claimed_by       TEXT,
    claimed_until    TIMESTAMPTZ,
    last_error       TEXT,
    created_ts       TIMESTAMPTZ  NOT NULL DEFAULT now(),
    -- set by `irpctl notifications resend`: the give-up clock starts again
    requeued_ts      TIMESTAMPTZ,
    delivered_ts     TIMESTAMPTZ,
    updated_ts       TIMESTAMPTZ  NOT NULL DEFAULT now(),
    UNIQUE (channel, idempotency_key)
);

CREATE INDEX irp_notification_message_due_idx ON irp_notification_message (next_attempt_ts, id)
    WHERE status = 'PENDING';
CREATE INDEX irp_notification_message_failed_idx ON irp_notification_message (id)
    WHERE status = 'FAILED';

-- A batch reached an outcome. The job counts are a snapshot taken in the same transaction
-- (a few rows of the live batch counts).
CREATE FUNCTION irp_notify_batch_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO irp_notification (kind, severity, batch_id, details)
    VALUES (
        'batch_' || lower(NEW.status),
        CASE NEW.status WHEN 'FAILED' THEN 'critical' WHEN 'CANCELLED' THEN 'warning'
                        ELSE 'info' END,
        NEW.id,
        jsonb_build_object(
            'previous_status', OLD.status,
            'status', NEW.status,
            'batch_type', NEW.batch_type,
            'job_counts', coalesce((
                SELECT jsonb_object_agg(status, n)
                  FROM (SELECT status, sum(n) AS n FROM irp_batch_job_count
                         WHERE batch_id = NEW.id AND NOT skipped
                         GROUP BY status HAVING sum(n) > 0) s), '{}'::jsonb)));
    RETURN NULL;
END $$;

CREATE TRIGGER irp_batch_outcome_notified
    AFTER UPDATE OF status ON irp_batch
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          AND NEW.status IN ('COMPLETED', 'FAILED', 'CANCELLED'))
    EXECUTE FUNCTION irp_notify_batch_outcome();

-- A job needs an operator: it FAILED at Moody's or was refused (ERROR). The WHEN clause is
-- evaluated per updated row without calling the function, so the tracker's bulk status writes
-- pay nothing for the rows it does not match.
CREATE FUNCTION irp_notify_job_needs_operator() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO irp_notification (kind, severity, batch_id, job_id, details)
    VALUES (
        'job_needs_operator', 'warning', NEW.batch_id, NEW.id,
        jsonb_build_object(
            'previous_status', OLD.status,
            'status', NEW.status,
            'workflow_id', NEW.moodys_workflow_id,
            'error', left(NEW.last_error, 500)));
    RETURN NULL;
END $$;

CREATE TRIGGER irp_job_needs_operator_notified
    AFTER UPDATE OF status ON irp_job
    FOR EACH ROW
    WHEN (NEW.status IN ('FAILED', 'ERROR') AND OLD.status IS DISTINCT FROM NEW.status
          AND NOT NEW.skipped)
    EXECUTE FUNCTION irp_notify_job_needs_operator();
