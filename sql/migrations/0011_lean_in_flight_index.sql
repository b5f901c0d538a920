-- The tracker schedules polls in memory, so the in-flight index need not be ordered by
-- next_poll_at; keeping that column out of every index lets poll bookkeeping be HOT updates.
DROP INDEX irp_job_in_flight_idx;
CREATE INDEX irp_job_in_flight_idx ON irp_job (id)
    WHERE status IN ('SUBMITTED', 'QUEUED', 'PENDING', 'RUNNING', 'CANCEL_REQUESTED', 'CANCELLING');
