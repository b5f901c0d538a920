-- Vacuum and analyze the job tables after a fixed number of changed rows, not a fraction of
-- the table (issue 17, history). PostgreSQL's defaults (20 % dead rows to vacuum, 10 % changed
-- to analyze) scale with the table: with 1,000,000 finished jobs of history, irp_job was
-- vacuumed only after ~200,000 dead rows, so the live path's partial indexes (in flight,
-- queued, submitting, cancel: a handful of live rows each) filled with dead entries that every
-- tracker read and start-up walked (measured: 301 index pages read to find 0 in-flight jobs
-- after five 10,000-job rounds, 1 page after a VACUUM). A fixed threshold makes vacuum and
-- analyze follow the live work whatever the history; each vacuum skips the all-visible history
-- pages (visibility map), so its cost follows the changed pages too.
ALTER TABLE irp_job SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 20000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 20000
);
ALTER TABLE irp_job_configuration SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 20000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 20000
);
ALTER TABLE irp_job_tracking_log SET (
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 200000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 200000
);
