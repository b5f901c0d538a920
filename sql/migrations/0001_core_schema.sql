-- irpd core schema: cycles, configurations, batches, job configurations, jobs, audit logs.
-- Status values mirror statemachines/ (a unit test checks that they agree).

CREATE TABLE irp_cycle (
    id              BIGSERIAL PRIMARY KEY,
    cycle_name      VARCHAR(255) NOT NULL,
    status          VARCHAR(20)  NOT NULL DEFAULT 'ACTIVE',
    created_ts      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    archived_ts     TIMESTAMPTZ,
    CONSTRAINT irp_cycle_name_unique UNIQUE (cycle_name),
    CONSTRAINT irp_cycle_name_not_blank CHECK (btrim(cycle_name) <> ''),
    CONSTRAINT irp_cycle_status_check CHECK (status IN ('ACTIVE', 'ARCHIVED'))
);
-- Exactly one ACTIVE cycle at a time (at most one row may match the predicate).
CREATE UNIQUE INDEX irp_cycle_one_active ON irp_cycle ((true)) WHERE status = 'ACTIVE';

CREATE TABLE irp_configuration (
    id                      BIGSERIAL PRIMARY KEY,
    cycle_id                BIGINT       NOT NULL REFERENCES irp_cycle (id),
    configuration_file_name VARCHAR(1000) NOT NULL,
    configuration_data      JSONB        NOT NULL,
    status                  VARCHAR(20)  NOT NULL DEFAULT 'NEW',
    file_sha256             CHAR(64),
    created_ts              TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_ts              TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT irp_configuration_status_check
        CHECK (status IN ('NEW', 'VALID', 'ERROR', 'ACTIVE'))
);
CREATE INDEX irp_configuration_cycle_idx ON irp_configuration (cycle_id, status);

CREATE TABLE irp_batch (
    id               BIGSERIAL PRIMARY KEY,
    configuration_id BIGINT       NOT NULL REFERENCES irp_configuration (id),
    batch_type       VARCHAR(100) NOT NULL,
    step_id          BIGINT,
    status           VARCHAR(20)  NOT NULL DEFAULT 'INITIATED',
    created_ts       TIMESTAMPTZ  NOT NULL DEFAULT now(),
    submitted_ts     TIMESTAMPTZ,
    completed_ts     TIMESTAMPTZ,
    updated_ts       TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT irp_batch_status_check
        CHECK (status IN ('INITIATED', 'ACTIVE', 'COMPLETED', 'FAILED', 'CANCELLED')),
    CONSTRAINT irp_batch_step_positive CHECK (step_id IS NULL OR step_id > 0)
);
CREATE INDEX irp_batch_configuration_idx ON irp_batch (configuration_id);
CREATE INDEX irp_batch_status_idx ON irp_batch (status);

CREATE TABLE irp_job_configuration (
    id                            BIGSERIAL PRIMARY KEY,
    batch_id                      BIGINT  NOT NULL REFERENCES irp_batch (id),
    configuration_id              BIGINT  NOT NULL REFERENCES irp_configuration (id),
    job_configuration_data        JSONB   NOT NULL,
    skipped                       BOOLEAN NOT NULL DEFAULT false,
    skipped_reason_txt            VARCHAR(1000),
    overridden                    BOOLEAN NOT NULL DEFAULT false,
    override_reason_txt           VARCHAR(1000),
    -- lineage: an override configuration points at the one it replaces, and back
    parent_job_configuration_id   BIGINT REFERENCES irp_job_configuration (id),
    override_job_configuration_id BIGINT REFERENCES irp_job_configuration (id),
    created_ts                    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_ts                    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT irp_job_configuration_override_reason
        CHECK (NOT overridden OR (override_reason_txt IS NOT NULL AND btrim(override_reason_txt) <> ''))
);
CREATE INDEX irp_job_configuration_batch_idx ON irp_job_configuration (batch_id);
CREATE INDEX irp_job_configuration_parent_idx ON irp_job_configuration (parent_job_configuration_id);

CREATE TABLE irp_job (
    id                   BIGSERIAL PRIMARY KEY,
    batch_id             BIGINT      NOT NULL REFERENCES irp_batch (id),
    job_configuration_id BIGINT      NOT NULL REFERENCES irp_job_configuration (id),
    parent_job_id        BIGINT      REFERENCES irp_job (id),
    status               VARCHAR(20) NOT NULL DEFAULT 'INITIATED',
    skipped              BOOLEAN     NOT NULL DEFAULT false,
    skipped_reason_txt   VARCHAR(1000),
    forced_ok_reason_txt VARCHAR(1000),
    -- submission: intent (key + deterministic name) is committed before the HTTP call
    submit_requested_ts  TIMESTAMPTZ,
    idempotency_key      UUID,
    workflow_name        VARCHAR(64),
    submitting_ts        TIMESTAMPTZ,
    submission_attempts  INTEGER     NOT NULL DEFAULT 0,
    moodys_workflow_id   VARCHAR(64),
    submission_request   JSONB,
    submission_response  JSONB,
    submitted_ts         TIMESTAMPTZ,
    -- tracking
    progress             SMALLINT,
    last_error           TEXT,
    last_tracked_ts      TIMESTAMPTZ,
    next_poll_at         TIMESTAMPTZ,
    poll_count           INTEGER     NOT NULL DEFAULT 0,
    status_changed_ts    TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_ts         TIMESTAMPTZ,
    created_ts           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_ts           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT irp_job_status_check CHECK (status IN (
        'INITIATED', 'SUBMITTING', 'SUBMITTED', 'QUEUED', 'PENDING', 'RUNNING', 'FINISHED',
        'FAILED', 'CANCEL_REQUESTED', 'CANCELLING', 'CANCELLED', 'FORCED_OK', 'ERROR')),
    CONSTRAINT irp_job_idempotency_key_unique UNIQUE (idempotency_key),
    CONSTRAINT irp_job_workflow_name_unique UNIQUE (workflow_name),
    CONSTRAINT irp_job_submitting_has_intent
        CHECK (status <> 'SUBMITTING' OR (idempotency_key IS NOT NULL AND workflow_name IS NOT NULL)),
    CONSTRAINT irp_job_progress_range CHECK (progress IS NULL OR progress BETWEEN 0 AND 100)
);
CREATE INDEX irp_job_batch_idx ON irp_job (batch_id, status);
CREATE INDEX irp_job_configuration_idx ON irp_job (job_configuration_id);
CREATE INDEX irp_job_parent_idx ON irp_job (parent_job_id);
CREATE UNIQUE INDEX irp_job_workflow_idx ON irp_job (moodys_workflow_id)
    WHERE moodys_workflow_id IS NOT NULL;
-- the dispatcher's queue: jobs asked to be submitted, oldest first
CREATE INDEX irp_job_submit_queue_idx ON irp_job (submit_requested_ts, id)
    WHERE status = 'INITIATED' AND submit_requested_ts IS NOT NULL;
-- submissions whose outcome is unknown (recovery), and cancels to send
CREATE INDEX irp_job_submitting_idx ON irp_job (id) WHERE status = 'SUBMITTING';
CREATE INDEX irp_job_cancel_requested_idx ON irp_job (id) WHERE status = 'CANCEL_REQUESTED';
-- the tracker's work: in-flight jobs by next poll
CREATE INDEX irp_job_in_flight_idx ON irp_job (next_poll_at, id)
    WHERE status IN ('SUBMITTED', 'QUEUED', 'PENDING', 'RUNNING', 'CANCEL_REQUESTED', 'CANCELLING');

CREATE TABLE irp_batch_recon_log (
    id            BIGSERIAL PRIMARY KEY,
    batch_id      BIGINT      NOT NULL REFERENCES irp_batch (id),
    recon_result  VARCHAR(20) NOT NULL,
    recon_summary JSONB       NOT NULL,
    previous_status VARCHAR(20) NOT NULL,
    recon_ts      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT irp_batch_recon_result_check
        CHECK (recon_result IN ('ACTIVE', 'COMPLETED', 'FAILED', 'CANCELLED'))
);
CREATE INDEX irp_batch_recon_log_batch_idx ON irp_batch_recon_log (batch_id, recon_ts);

-- One row per status change of a job (and per explicit poll through `job track`);
-- `source` says who caused it: moodys (a poll), engine (dispatcher/canceller), operator.
CREATE TABLE irp_job_tracking_log (
    id              BIGSERIAL PRIMARY KEY,
    job_id          BIGINT      NOT NULL REFERENCES irp_job (id),
    moodys_workflow_id VARCHAR(64),
    job_status      VARCHAR(20) NOT NULL,
    previous_status VARCHAR(20),
    source          VARCHAR(20) NOT NULL DEFAULT 'moodys',
    tracking_data   JSONB,
    tracked_ts      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT irp_job_tracking_source_check
        CHECK (source IN ('moodys', 'engine', 'operator'))
);
CREATE INDEX irp_job_tracking_log_job_idx ON irp_job_tracking_log (job_id, tracked_ts);
