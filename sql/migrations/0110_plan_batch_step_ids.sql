-- Batches a cycle plan created carry their step's id (irp_step_run.id) as step_id, as batches
-- created by hand can (`batch create --step`); those created before this release had none.
UPDATE irp_batch SET step_id = step_run_id WHERE step_id IS NULL AND step_run_id IS NOT NULL;
