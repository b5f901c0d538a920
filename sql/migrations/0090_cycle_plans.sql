-- Cycle plans (issue 15): a cycle's run of a plan, one row per step run, the duplicate-batch
-- guard and an audit of batch withdrawals and deletions.

-- One live batch per (configuration, batch type). A batch stops being live when it is
-- CANCELLED (withdrawn); a deliberate duplicate carries the operator's reason and is exempt.
ALTER TABLE irp_batch ADD COLUMN duplicate_reason TEXT;
-- Duplicates created before this guard keep working: all but the oldest live one are marked.
UPDATE irp_batch b
   SET duplicate_reason = 'created before the duplicate guard (migration 0090)'
 WHERE b.status <> 'CANCELLED'
   AND EXISTS (SELECT 1 FROM irp_batch o
                WHERE o.configuration_id = b.configuration_id AND o.batch_type = b.batch_type
                  AND o.status <> 'CANCELLED' AND o.id < b.id);
CREATE UNIQUE INDEX irp_batch_one_live ON irp_batch (configuration_id, batch_type)
    WHERE status <> 'CANCELLED' AND duplicate_reason IS NULL;

-- A cycle's run of a plan: the plan as data (a later edit of the plan file does not change a
-- run in progress), how far it goes, and whether the daemon advances it.
CREATE TABLE irp_cycle_plan (
    cycle_id         BIGINT PRIMARY KEY REFERENCES irp_cycle (id),
    configuration_id BIGINT      NOT NULL REFERENCES irp_configuration (id),
    plan_name        TEXT        NOT NULL,
    plan             JSONB       NOT NULL,
    until_step       TEXT,
    status           VARCHAR(20) NOT NULL DEFAULT 'RUNNING',
    started_by       TEXT,
    created_ts       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_ts       TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_ts      TIMESTAMPTZ,
    CONSTRAINT irp_cycle_plan_status_check CHECK (status IN ('RUNNING', 'PAUSED', 'COMPLETED'))
);
CREATE INDEX irp_cycle_plan_running_idx ON irp_cycle_plan (cycle_id) WHERE status = 'RUNNING';

-- One row per step of a cycle's plan once it leaves WAITING. At most one per (cycle, step),
-- and a step's batch points back at its run (irp_batch.step_run_id, unique): a crash between
-- creating the batch and recording it can never create the step's batch twice.
CREATE TABLE irp_step_run (
    id           BIGSERIAL PRIMARY KEY,
    cycle_id     BIGINT      NOT NULL REFERENCES irp_cycle_plan (cycle_id),
    step_name    TEXT        NOT NULL,
    status       VARCHAR(20) NOT NULL,
    batch_id     BIGINT REFERENCES irp_batch (id),
    note         TEXT,
    approved_by  TEXT,
    approved_ts  TIMESTAMPTZ,
    started_ts   TIMESTAMPTZ,
    finished_ts  TIMESTAMPTZ,
    updated_ts   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT irp_step_run_one_per_step UNIQUE (cycle_id, step_name),
    CONSTRAINT irp_step_run_status_check CHECK (status IN (
        'WAITING', 'AWAITING_APPROVAL', 'STARTING', 'RUNNING', 'COMPLETED', 'FAILED', 'SKIPPED'))
);
ALTER TABLE irp_batch ADD COLUMN step_run_id BIGINT REFERENCES irp_step_run (id);
CREATE UNIQUE INDEX irp_batch_step_run_idx ON irp_batch (step_run_id) WHERE step_run_id IS NOT NULL;

-- Withdrawals (batch cancel) and deletions of never-submitted batches, kept after the rows go.
CREATE TABLE irp_batch_audit_log (
    id               BIGSERIAL PRIMARY KEY,
    batch_id         BIGINT      NOT NULL,
    action           VARCHAR(20) NOT NULL,
    reason           TEXT        NOT NULL,
    actor            TEXT,
    batch            JSONB       NOT NULL,
    logged_ts        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT irp_batch_audit_action_check CHECK (action IN ('CANCEL', 'DELETE', 'DUPLICATE'))
);
CREATE INDEX irp_batch_audit_log_batch_idx ON irp_batch_audit_log (batch_id);
