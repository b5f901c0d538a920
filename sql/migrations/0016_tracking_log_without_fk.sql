-- The tracking log is append-only and written only by statements that moved the job row in
-- the same statement (or the operator's own single-job writes); jobs are never deleted. The
-- foreign key re-checked every audit row against irp_job (a key-share lock and an index probe
-- per row: ~15% of a bulk transition), so it goes; irp_job_tracking_log_job_idx stays.
ALTER TABLE irp_job_tracking_log DROP CONSTRAINT irp_job_tracking_log_job_id_fkey;
