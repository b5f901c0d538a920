-- name: configuration_lock_cycle
-- Serialises workbook registrations of one cycle (and waits for a concurrent archive).
SELECT id, cycle_name, status FROM irp_cycle WHERE id = $1 FOR UPDATE

-- name: configuration_lock_siblings
-- Lock the cycle's configurations (a concurrent create_batch holds its configuration FOR SHARE:
-- this waits for it to commit).
SELECT id FROM irp_configuration WHERE cycle_id = $1 ORDER BY id FOR UPDATE

-- name: configuration_replaceable_check
-- The cycle's (locked) configurations, with whether any batch was created from them.
SELECT c.id, c.status,
       EXISTS (SELECT 1 FROM irp_batch b WHERE b.configuration_id = c.id) AS has_batches
  FROM irp_configuration c
 WHERE c.cycle_id = $1
 ORDER BY c.id

-- name: configuration_delete_replaced
DELETE FROM irp_configuration c
 WHERE c.cycle_id = $1 AND c.status <> 'ACTIVE'
   AND NOT EXISTS (SELECT 1 FROM irp_batch b WHERE b.configuration_id = c.id)
RETURNING c.id

-- name: configuration_insert
INSERT INTO irp_configuration (cycle_id, configuration_file_name, configuration_data, status, file_sha256)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, cycle_id, configuration_file_name, status, file_sha256, created_ts, updated_ts

-- name: configuration_read
SELECT c.id, c.cycle_id, cy.cycle_name, cy.status AS cycle_status, c.configuration_file_name,
       c.status, c.file_sha256, c.created_ts, c.updated_ts, c.configuration_data
  FROM irp_configuration c
  JOIN irp_cycle cy ON cy.id = c.cycle_id
 WHERE c.id = $1

-- name: configuration_list
-- $1: cycle id or NULL, $2: status or NULL. Without the (large) configuration data.
SELECT c.id, c.cycle_id, cy.cycle_name, c.configuration_file_name, c.status, c.file_sha256,
       c.created_ts, c.updated_ts,
       (SELECT count(*) FROM irp_batch b WHERE b.configuration_id = c.id) AS batches
  FROM irp_configuration c
  JOIN irp_cycle cy ON cy.id = c.cycle_id
 WHERE ($1::bigint IS NULL OR c.cycle_id = $1)
   AND ($2::text IS NULL OR c.status = $2)
 ORDER BY c.id
