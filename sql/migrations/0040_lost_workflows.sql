-- A workflow Moody's no longer knows (it answers a status lookup without it) is given up after
-- engine.lost_workflow_after: the job becomes ERROR. The first "missing" answer is stored, so
-- a restart does not start the count again; any answer that includes the workflow clears it.
ALTER TABLE irp_job ADD COLUMN moodys_missing_since TIMESTAMPTZ;

COMMENT ON COLUMN irp_job.moodys_missing_since IS
    'when Moody''s first answered a status lookup without this job''s workflow (NULL: it '
    'answers for it); the job becomes ERROR once this is older than engine.lost_workflow_after';

-- the tracker reloads the jobs that are missing at start (few: normally none)
CREATE INDEX irp_job_missing_idx ON irp_job (id)
    WHERE moodys_missing_since IS NOT NULL AND engine_phase IN ('in_flight', 'cancel');
