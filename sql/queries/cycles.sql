-- name: cycle_lock_registry
-- Serialises cycle creation and archival (the exactly-one-ACTIVE rule); released at commit.
SELECT pg_advisory_xact_lock(hashtext('irpd.cycles'))

-- name: cycle_by_id
SELECT id, cycle_name, status, created_ts, archived_ts FROM irp_cycle WHERE id = $1

-- name: cycle_by_name
SELECT id, cycle_name, status, created_ts, archived_ts FROM irp_cycle WHERE cycle_name = $1

-- name: cycle_active
SELECT id, cycle_name, status, created_ts, archived_ts FROM irp_cycle WHERE status = 'ACTIVE'

-- name: cycle_active_batch_ids
-- Batches of the cycle that still have work at Moody's (archiving would orphan them), by id.
SELECT coalesce(array_agg(b.id ORDER BY b.id), '{}')
  FROM irp_batch b
  JOIN irp_configuration c ON c.id = b.configuration_id
 WHERE c.cycle_id = $1 AND b.status = 'ACTIVE'

-- name: cycle_archive
UPDATE irp_cycle
   SET status = 'ARCHIVED', archived_ts = now()
 WHERE id = $1 AND status = 'ACTIVE'
RETURNING id, cycle_name, status, created_ts, archived_ts

-- name: cycle_insert
INSERT INTO irp_cycle (cycle_name) VALUES ($1)
RETURNING id, cycle_name, status, created_ts, archived_ts

-- name: cycle_list
-- $1: status filter or NULL
SELECT cy.id, cy.cycle_name, cy.status, cy.created_ts, cy.archived_ts,
       (SELECT count(*) FROM irp_configuration c WHERE c.cycle_id = cy.id) AS configurations
  FROM irp_cycle cy
 WHERE ($1::text IS NULL OR cy.status = $1)
 ORDER BY cy.id
