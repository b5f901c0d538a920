-- name: job_read
SELECT j.*, b.configuration_id, b.status AS batch_status, b.batch_type
  FROM irp_job j
  JOIN irp_batch b ON b.id = j.batch_id
 WHERE j.id = $1

-- name: job_configuration_of_job
SELECT jc.*
  FROM irp_job j
  JOIN irp_job_configuration jc ON jc.id = j.job_configuration_id
 WHERE j.id = $1

-- name: job_lock
-- One job, locked for an operator command or a status fact (lock order: batch, job,
-- job configuration, count rows). NO KEY UPDATE: a resubmission's new job refers to it.
SELECT j.id, j.batch_id, j.job_configuration_id, j.status, j.skipped, j.moodys_workflow_id,
       j.submit_requested_ts
  FROM irp_job j
 WHERE j.id = $1
   FOR NO KEY UPDATE

-- name: job_batch_id
SELECT batch_id FROM irp_job WHERE id = $1

-- name: job_batch_context
-- The (already locked) batch $1 with its configuration and cycle statuses.
SELECT b.id, b.status, b.configuration_id, c.status AS configuration_status,
       cy.cycle_name, cy.status AS cycle_status
  FROM irp_batch b
  JOIN irp_configuration c ON c.id = b.configuration_id
  JOIN irp_cycle cy ON cy.id = c.cycle_id
 WHERE b.id = $1

-- name: job_configuration_lock
SELECT id, batch_id, configuration_id, skipped, override_job_configuration_id
  FROM irp_job_configuration
 WHERE id = $1
   FOR NO KEY UPDATE

-- name: job_create_with_new_configuration
WITH created_configuration AS (
    INSERT INTO irp_job_configuration (batch_id, configuration_id, job_configuration_data)
    VALUES ($1, $2, $3)
    RETURNING id, batch_id
)
INSERT INTO irp_job (batch_id, job_configuration_id)
SELECT batch_id, id FROM created_configuration
RETURNING id AS job_id, batch_id, job_configuration_id, status, created_ts

-- name: job_create_on_configuration
INSERT INTO irp_job (batch_id, job_configuration_id) VALUES ($1, $2)
RETURNING id AS job_id, batch_id, job_configuration_id, status, created_ts

-- name: job_transition
-- Moves of jobs by an operator (request_cancel, force_ok): compare-and-set plus the
-- tracking-log row in one statement. Move columns (irpd/db/moves.py): $1 ids, $2 expected,
-- $3 targets, $4 audit data, $5 source; $6 forced-ok reason or NULL, $7 terminal statuses.
WITH input AS (
    SELECT t.* FROM unnest($1::bigint[], string_to_array($2::text, ','),
                           string_to_array($3::text, ','), $4::jsonb[])
        AS t(id, expected, target, data)
), moved AS (
    UPDATE irp_job AS j
       SET status = i.target, status_changed_ts = now(), updated_ts = now(),
           forced_ok_reason_txt = COALESCE($6, j.forced_ok_reason_txt),
           completed_ts = CASE WHEN i.target = ANY ($7::text[]) THEN now() ELSE j.completed_ts END,
           next_poll_at = CASE WHEN i.target = ANY ($7::text[]) THEN NULL ELSE j.next_poll_at END
      FROM input i
     WHERE j.id = i.id AND j.status = i.expected
    RETURNING j.id, j.batch_id, j.moodys_workflow_id, i.expected, i.target, i.data
), logged AS (
    INSERT INTO irp_job_tracking_log (job_id, moodys_workflow_id, job_status, previous_status, source, tracking_data)
    SELECT id, moodys_workflow_id, target, expected, $5, data FROM moved
    RETURNING job_id, tracked_ts
)
SELECT m.id, m.batch_id, m.target, m.expected, l.tracked_ts
  FROM moved m JOIN logged l ON l.job_id = m.id

-- name: job_skip
-- Skip job $1 (seen in status $2) with reason $3; its job configuration is skipped too when
-- no other non-skipped job uses it (so it no longer needs a job). One tracking-log row.
WITH skipped_job AS (
    UPDATE irp_job
       SET skipped = true, skipped_reason_txt = $3, submit_requested_ts = NULL, updated_ts = now()
     WHERE id = $1 AND status = $2 AND NOT skipped
    RETURNING id, status, moodys_workflow_id, job_configuration_id
), skipped_configuration AS (
    UPDATE irp_job_configuration jc
       SET skipped = true, skipped_reason_txt = $3, updated_ts = now()
      FROM skipped_job s
     WHERE jc.id = s.job_configuration_id AND NOT jc.skipped
       AND NOT EXISTS (SELECT 1 FROM irp_job o
                        WHERE o.job_configuration_id = jc.id AND o.id <> s.id AND NOT o.skipped)
    RETURNING jc.id
), logged AS (
    INSERT INTO irp_job_tracking_log (job_id, moodys_workflow_id, job_status, previous_status, source, tracking_data)
    SELECT s.id, s.moodys_workflow_id, s.status, s.status, 'operator',
           jsonb_build_object('action', 'skip', 'reason', $3::text,
                              'job_configuration_skipped', EXISTS (SELECT 1 FROM skipped_configuration))
      FROM skipped_job s
    RETURNING tracked_ts
)
SELECT s.id AS job_id, s.status, s.job_configuration_id,
       EXISTS (SELECT 1 FROM skipped_configuration) AS job_configuration_skipped,
       (SELECT tracked_ts FROM logged) AS tracked_ts
  FROM skipped_job s

-- name: job_queue
-- Ask the dispatcher to submit INITIATED job $1 (kept when already asked).
UPDATE irp_job
   SET submit_requested_ts = COALESCE(submit_requested_ts, now()), updated_ts = now()
 WHERE id = $1 AND status = 'INITIATED' AND NOT skipped
RETURNING id AS job_id, status, submit_requested_ts

-- name: job_resubmit_same_configuration
-- Job $1 (seen in $2, not skipped) is skipped and replaced by a new INITIATED job on the same
-- job configuration (parent_job_id = $1). Audit rows for both jobs. $3: source.
WITH ids AS (
    SELECT nextval(pg_get_serial_sequence('irp_job', 'id')) AS new_job_id
), old_job AS (
    UPDATE irp_job o
       SET skipped = true, skipped_reason_txt = 'Resubmitted as job ' || ids.new_job_id,
           submit_requested_ts = NULL, updated_ts = now()
      FROM ids
     WHERE o.id = $1 AND o.status = $2 AND NOT o.skipped
    RETURNING o.id, o.batch_id, o.job_configuration_id, o.status, o.moodys_workflow_id, ids.new_job_id
), new_job AS (
    INSERT INTO irp_job (id, batch_id, job_configuration_id, parent_job_id)
    SELECT new_job_id, batch_id, job_configuration_id, id FROM old_job
    RETURNING id, batch_id, job_configuration_id, parent_job_id, status, created_ts
), logged AS (
    INSERT INTO irp_job_tracking_log (job_id, moodys_workflow_id, job_status, previous_status, source, tracking_data)
    SELECT o.id, o.moodys_workflow_id, o.status, o.status, $3,
           jsonb_build_object('action', 'resubmitted', 'new_job_id', o.new_job_id)
      FROM old_job o
    UNION ALL
    SELECT n.id, NULL, n.status, NULL, $3,
           jsonb_build_object('action', 'created_by_resubmission', 'parent_job_id', n.parent_job_id)
      FROM new_job n
    RETURNING id
)
SELECT n.id AS job_id, n.batch_id, n.job_configuration_id, n.parent_job_id, n.status, n.created_ts,
       false AS overridden, (SELECT count(*) FROM logged) AS audit_rows
  FROM new_job n

-- name: job_resubmit_with_override
-- Like job_resubmit_same_configuration, with a new job configuration: data $3, reason $4,
-- overridden, parent_job_configuration_id -> the old one; the old one gets
-- override_job_configuration_id -> the new one and is skipped. $5: source.
WITH ids AS (
    SELECT nextval(pg_get_serial_sequence('irp_job', 'id')) AS new_job_id,
           nextval(pg_get_serial_sequence('irp_job_configuration', 'id')) AS new_configuration_id
), old_job AS (
    UPDATE irp_job o
       SET skipped = true,
           skipped_reason_txt = 'Resubmitted with override as job ' || ids.new_job_id,
           submit_requested_ts = NULL, updated_ts = now()
      FROM ids
     WHERE o.id = $1 AND o.status = $2 AND NOT o.skipped
    RETURNING o.id, o.batch_id, o.job_configuration_id, o.status, o.moodys_workflow_id,
              ids.new_job_id, ids.new_configuration_id
), old_configuration AS (
    UPDATE irp_job_configuration jc
       SET override_job_configuration_id = o.new_configuration_id, skipped = true,
           skipped_reason_txt = left('Overridden by job configuration ' || o.new_configuration_id
                                     || ': ' || $4, 1000),
           updated_ts = now()
      FROM old_job o
     WHERE jc.id = o.job_configuration_id AND NOT jc.skipped
       AND jc.override_job_configuration_id IS NULL
    RETURNING jc.id, jc.batch_id, jc.configuration_id
), new_configuration AS (
    INSERT INTO irp_job_configuration (id, batch_id, configuration_id, job_configuration_data,
                                       overridden, override_reason_txt, parent_job_configuration_id)
    SELECT o.new_configuration_id, c.batch_id, c.configuration_id, $3, true, $4, c.id
      FROM old_job o JOIN old_configuration c ON c.id = o.job_configuration_id
    RETURNING id
), new_job AS (
    INSERT INTO irp_job (id, batch_id, job_configuration_id, parent_job_id)
    SELECT o.new_job_id, o.batch_id, nc.id, o.id FROM old_job o, new_configuration nc
    RETURNING id, batch_id, job_configuration_id, parent_job_id, status, created_ts
), logged AS (
    INSERT INTO irp_job_tracking_log (job_id, moodys_workflow_id, job_status, previous_status, source, tracking_data)
    SELECT o.id, o.moodys_workflow_id, o.status, o.status, $5,
           jsonb_build_object('action', 'resubmitted', 'new_job_id', o.new_job_id,
                              'override_job_configuration_id', o.new_configuration_id,
                              'override_reason', $4::text)
      FROM old_job o
    UNION ALL
    SELECT n.id, NULL, n.status, NULL, $5,
           jsonb_build_object('action', 'created_by_resubmission', 'parent_job_id', n.parent_job_id,
                              'overridden', true)
      FROM new_job n
    RETURNING id
)
SELECT n.id AS job_id, n.batch_id, n.job_configuration_id, n.parent_job_id, n.status, n.created_ts,
       true AS overridden, (SELECT count(*) FROM logged) AS audit_rows
  FROM new_job n

-- name: job_tracking_log
-- The newest $2 tracking-log rows of job $1, oldest first.
SELECT id, job_id, moodys_workflow_id, job_status, previous_status, source, tracking_data, tracked_ts
  FROM (SELECT * FROM irp_job_tracking_log WHERE job_id = $1 ORDER BY tracked_ts DESC, id DESC LIMIT $2) t
 ORDER BY tracked_ts, id

-- name: job_lineage
-- The resubmission chain of job $1 both ways: depth < 0 ancestors, 0 the job, > 0 descendants.
WITH RECURSIVE ancestors AS (
    SELECT id, parent_job_id, 0 AS depth FROM irp_job WHERE id = $1
    UNION ALL
    SELECT p.id, p.parent_job_id, a.depth - 1
      FROM irp_job p JOIN ancestors a ON p.id = a.parent_job_id
), descendants AS (
    SELECT id, parent_job_id, 0 AS depth FROM irp_job WHERE id = $1
    UNION ALL
    SELECT c.id, c.parent_job_id, d.depth + 1
      FROM irp_job c JOIN descendants d ON c.parent_job_id = d.id
), chain AS (
    SELECT id, depth FROM ancestors UNION SELECT id, depth FROM descendants
)
SELECT j.id AS job_id, chain.depth, j.parent_job_id, j.job_configuration_id, j.status, j.skipped,
       j.skipped_reason_txt, jc.overridden, jc.override_reason_txt, j.moodys_workflow_id,
       j.created_ts, j.completed_ts
  FROM chain
  JOIN irp_job j ON j.id = chain.id
  JOIN irp_job_configuration jc ON jc.id = j.job_configuration_id
 ORDER BY chain.depth, j.id
