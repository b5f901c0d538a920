-- Retention (irpd/ops/retention.py): export an archived cycle to a file, purge it in bounded
-- transactions, import an export back. Rows are exported as PostgreSQL's own JSON of the row
-- (row_to_json), so that an import restores exactly what was there.

-- name: retention_cycle
-- The cycle $1 (by name) with what purging it needs to know.
SELECT cy.id, cy.cycle_name, cy.status, cy.created_ts, cy.archived_ts,
       (SELECT count(*) FROM irp_job j
          JOIN irp_batch b ON b.id = j.batch_id
          JOIN irp_configuration c ON c.id = b.configuration_id
         WHERE c.cycle_id = cy.id AND j.engine_phase IS NOT NULL) AS live_jobs
  FROM irp_cycle cy
 WHERE cy.cycle_name = $1

-- name: retention_archived_before
-- Archived cycles archived before $1, oldest first.
SELECT cycle_name, archived_ts FROM irp_cycle
 WHERE status = 'ARCHIVED' AND archived_ts < $1
 ORDER BY archived_ts, id

-- name: retention_batches
SELECT b.id FROM irp_batch b JOIN irp_configuration c ON c.id = b.configuration_id
 WHERE c.cycle_id = $1 ORDER BY b.id

-- name: retention_export_cycle
SELECT row_to_json(t)::text AS row_json FROM irp_cycle t WHERE t.id = $1

-- name: retention_export_configurations
SELECT row_to_json(t)::text AS row_json FROM irp_configuration t WHERE t.cycle_id = $1 ORDER BY t.id

-- name: retention_export_plan
SELECT row_to_json(t)::text AS row_json FROM irp_cycle_plan t WHERE t.cycle_id = $1

-- name: retention_export_step_runs
SELECT row_to_json(t)::text AS row_json FROM irp_step_run t WHERE t.cycle_id = $1 ORDER BY t.id

-- name: retention_export_batch_audit
SELECT row_to_json(t)::text AS row_json FROM irp_batch_audit_log t WHERE t.batch_id = $1
 ORDER BY t.id

-- name: retention_export_batches
SELECT row_to_json(t)::text AS row_json FROM irp_batch t
 WHERE t.configuration_id IN (SELECT id FROM irp_configuration WHERE cycle_id = $1)
 ORDER BY t.id

-- name: retention_export_job_configurations
SELECT row_to_json(t)::text AS row_json FROM irp_job_configuration t WHERE t.batch_id = $1 ORDER BY t.id

-- name: retention_export_jobs
SELECT row_to_json(t)::text AS row_json FROM irp_job t WHERE t.batch_id = $1 ORDER BY t.id

-- name: retention_export_tracking
-- The tracking log of batch $1's jobs, in the order it was written.
SELECT row_to_json(t)::text AS row_json FROM irp_job_tracking_log t
 WHERE t.job_id IN (SELECT id FROM irp_job WHERE batch_id = $1)
 ORDER BY t.id

-- name: retention_export_recon
SELECT row_to_json(t)::text AS row_json FROM irp_batch_recon_log t WHERE t.batch_id = $1 ORDER BY t.id

-- name: retention_purge_jobs
-- Up to $2 jobs of batch $1 (newest first: a resubmitted job's parent is older, so it goes in
-- this chunk or a later one) with their tracking-log rows. One bounded transaction.
WITH doomed AS (
    SELECT id FROM irp_job WHERE batch_id = $1 ORDER BY id DESC LIMIT $2
), tracking AS (
    DELETE FROM irp_job_tracking_log WHERE job_id IN (SELECT id FROM doomed) RETURNING 1
), jobs AS (
    DELETE FROM irp_job WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT (SELECT count(*) FROM jobs) AS jobs, (SELECT count(*) FROM tracking) AS tracking

-- name: retention_unlink_overrides
-- An overridden job configuration points at its (newer) override: unlink them before the
-- chunks delete newest first.
UPDATE irp_job_configuration SET override_job_configuration_id = NULL
 WHERE batch_id = $1 AND override_job_configuration_id IS NOT NULL

-- name: retention_purge_plan
-- The cycle's plan and step runs (few rows), unlinked from their batches first.
WITH unlinked AS (
    UPDATE irp_batch SET step_run_id = NULL
     WHERE step_run_id IN (SELECT id FROM irp_step_run WHERE cycle_id = $1)
    RETURNING 1
), runs AS (
    DELETE FROM irp_step_run WHERE cycle_id = $1 RETURNING 1
)
DELETE FROM irp_cycle_plan WHERE cycle_id = $1

-- name: retention_purge_job_configurations
WITH doomed AS (
    SELECT id FROM irp_job_configuration WHERE batch_id = $1 ORDER BY id DESC LIMIT $2
)
DELETE FROM irp_job_configuration WHERE id IN (SELECT id FROM doomed)

-- name: retention_purge_batch
-- The batch $1 itself, once its jobs and job configurations are gone, with its recon log,
-- audit log and live counts (every sub-statement of a WITH runs, referenced or not).
WITH recon AS (
    DELETE FROM irp_batch_recon_log WHERE batch_id = $1 RETURNING 1
), job_counts AS (
    DELETE FROM irp_batch_job_count WHERE batch_id = $1 RETURNING 1
), config_counts AS (
    DELETE FROM irp_batch_config_count WHERE batch_id = $1 RETURNING 1
), audit AS (
    DELETE FROM irp_batch_audit_log WHERE batch_id = $1 RETURNING 1
)
DELETE FROM irp_batch WHERE id = $1

-- name: retention_purge_cycle
-- The cycle $1 and its configurations, once their batches are gone.
WITH configurations AS (
    DELETE FROM irp_configuration WHERE cycle_id = $1 RETURNING 1
)
DELETE FROM irp_cycle WHERE id = $1 AND status = 'ARCHIVED'

-- name: retention_counts
-- How many rows of each table belong to cycle $1 (what an export of it must hold).
WITH batches AS (
    SELECT b.id FROM irp_batch b JOIN irp_configuration c ON c.id = b.configuration_id
     WHERE c.cycle_id = $1
), jobs AS (
    SELECT j.id FROM irp_job j WHERE j.batch_id IN (SELECT id FROM batches)
)
SELECT (SELECT count(*) FROM irp_cycle WHERE id = $1) AS irp_cycle,
       (SELECT count(*) FROM irp_configuration WHERE cycle_id = $1) AS irp_configuration,
       (SELECT count(*) FROM irp_cycle_plan WHERE cycle_id = $1) AS irp_cycle_plan,
       (SELECT count(*) FROM batches) AS irp_batch,
       (SELECT count(*) FROM irp_step_run WHERE cycle_id = $1) AS irp_step_run,
       (SELECT count(*) FROM irp_job_configuration
         WHERE batch_id IN (SELECT id FROM batches)) AS irp_job_configuration,
       (SELECT count(*) FROM jobs) AS irp_job,
       (SELECT count(*) FROM irp_job_tracking_log
         WHERE job_id IN (SELECT id FROM jobs)) AS irp_job_tracking_log,
       (SELECT count(*) FROM irp_batch_recon_log
         WHERE batch_id IN (SELECT id FROM batches)) AS irp_batch_recon_log,
       (SELECT count(*) FROM irp_batch_audit_log
         WHERE batch_id IN (SELECT id FROM batches)) AS irp_batch_audit_log

-- name: retention_import
-- Insert exported rows $2 (the text of a JSON array of row_to_json objects) into table $1,
-- with the columns $3 left NULL (irp_import_rows, migration 0062, skips generated columns);
-- returns the rows inserted.
SELECT irp_import_rows($1::text::regclass, $2::text::json, $3::text[])

-- name: retention_link_step_runs
-- After an import: give the batches $1 (exported rows) their step_run_id back.
UPDATE irp_batch b SET step_run_id = r.step_run_id
  FROM json_populate_recordset(NULL::irp_batch, $1::text::json) r
 WHERE b.id = r.id AND r.step_run_id IS NOT NULL

-- name: retention_purge_messages
-- Up to $2 notification messages that are done (DELIVERED, or FAILED: given up) and last
-- changed before $1, oldest first; a PENDING message is never purged. One bounded transaction.
WITH doomed AS (
    SELECT id FROM irp_notification_message
     WHERE status IN ('DELIVERED', 'FAILED') AND updated_ts < $1
     ORDER BY id LIMIT $2
)
DELETE FROM irp_notification_message WHERE id IN (SELECT id FROM doomed)

-- name: retention_purge_notifications
-- Up to $3 notifications after id $2 (keyset: each chunk starts where the last stopped), created
-- before $1, routed, and named by no message left (messages are purged first); returns how many
-- went and the last id looked at (NULL: none left).
WITH candidates AS (
    SELECT n.id FROM irp_notification n
     WHERE n.id > $2 AND n.created_ts < $1 AND n.routed_ts IS NOT NULL
     ORDER BY n.id LIMIT $3
), kept AS (
    SELECT DISTINCT k.id FROM irp_notification_message m, unnest(m.notification_ids) AS k (id)
     WHERE k.id IN (SELECT id FROM candidates)
), gone AS (
    DELETE FROM irp_notification
     WHERE id IN (SELECT id FROM candidates EXCEPT SELECT id FROM kept) RETURNING 1
)
SELECT (SELECT count(*) FROM gone) AS deleted, (SELECT max(id) FROM candidates) AS last_id
