-- name: plan_configuration_of_cycle
-- The configuration a plan runs on: the cycle's newest VALID or ACTIVE one.
SELECT id, status FROM irp_configuration
 WHERE cycle_id = $1 AND status IN ('VALID', 'ACTIVE')
 ORDER BY id DESC
 LIMIT 1

-- name: plan_read
SELECT p.cycle_id, cy.cycle_name, cy.status AS cycle_status, p.configuration_id, p.plan_name,
       p.plan, p.until_step, p.status, p.started_by, p.created_ts, p.updated_ts, p.finished_ts
  FROM irp_cycle_plan p
  JOIN irp_cycle cy ON cy.id = p.cycle_id
 WHERE p.cycle_id = $1

-- name: plan_insert
-- $1 cycle, $2 configuration, $3 plan name, $4 plan (JSON), $5 until step, $6 who started it
INSERT INTO irp_cycle_plan (cycle_id, configuration_id, plan_name, plan, until_step, started_by)
VALUES ($1, $2, $3, $4::jsonb, $5, $6)
ON CONFLICT (cycle_id) DO NOTHING
RETURNING cycle_id

-- name: plan_extend
-- Run an existing plan again, possibly further (--until $2): compare-and-set from $3 (array)
-- to $4 (the plan machine's ``extend``: from RUNNING, PAUSED or COMPLETED to RUNNING).
UPDATE irp_cycle_plan
   SET until_step = $2, status = $4::varchar, finished_ts = NULL, updated_ts = now()
 WHERE cycle_id = $1 AND status = ANY($3::text[])
RETURNING cycle_id

-- name: plan_set_status
-- Compare-and-set of a plan's status: $2 expected (array), $3 target.
UPDATE irp_cycle_plan
   SET status = $3::varchar, updated_ts = now(),
       finished_ts = CASE WHEN $3::varchar = 'COMPLETED' THEN now() ELSE NULL END
 WHERE cycle_id = $1 AND status = ANY($2::text[])
RETURNING cycle_id, status

-- name: plan_running
-- Plans the runner advances (few rows: one per cycle at most).
SELECT p.cycle_id, cy.cycle_name, p.configuration_id, p.plan, p.until_step
  FROM irp_cycle_plan p
  JOIN irp_cycle cy ON cy.id = p.cycle_id
 WHERE p.status = 'RUNNING' AND cy.status = 'ACTIVE'
 ORDER BY p.cycle_id

-- name: plan_step_runs
-- Every step run of a cycle with its batch's status and times.
SELECT s.id, s.step_name, s.status, s.batch_id, s.note, s.approved_by, s.approved_ts,
       s.started_ts, s.finished_ts, b.status AS batch_status, b.batch_type,
       b.created_ts AS batch_created_ts, b.completed_ts AS batch_completed_ts
  FROM irp_step_run s
  LEFT JOIN irp_batch b ON b.id = s.batch_id
 WHERE s.cycle_id = $1
 ORDER BY s.id

-- name: step_run_upsert
-- Record a step's status when it leaves WAITING; only from the statuses in $4 (compare-and-
-- set: a step that moved on meanwhile is left alone). Returns the run, or nothing.
INSERT INTO irp_step_run (cycle_id, step_name, status, note)
VALUES ($1, $2, $3, $5)
ON CONFLICT (cycle_id, step_name) DO UPDATE
   SET status = EXCLUDED.status, note = EXCLUDED.note, updated_ts = now()
 WHERE irp_step_run.status = ANY($4::text[])
RETURNING id, status, batch_id

-- name: step_run_started
-- The step's batch exists (created or adopted) and was submitted: STARTING → RUNNING, with
-- its step_started notification (the outbox of migration 0080) in the same statement.
WITH moved AS (
    UPDATE irp_step_run
       SET status = 'RUNNING', batch_id = $2, started_ts = coalesce(started_ts, now()),
           note = NULL, updated_ts = now()
     WHERE id = $1 AND status = 'STARTING'
    RETURNING id, cycle_id, step_name, batch_id
), noted AS (
    INSERT INTO irp_notification (kind, severity, batch_id, details)
    SELECT 'step_started', 'info', batch_id,
           jsonb_build_object('cycle_id', cycle_id, 'step', step_name, 'status', 'RUNNING')
      FROM moved
)
SELECT id FROM moved

-- name: step_run_finish
-- A step moves to $3 (from $2); finished when COMPLETED, FAILED or SKIPPED (then with its
-- step_finished notification, in the same statement).
WITH moved AS (
    UPDATE irp_step_run
       SET status = $3::varchar, note = coalesce($4, note), updated_ts = now(),
           finished_ts = CASE WHEN $3::varchar IN ('COMPLETED', 'FAILED', 'SKIPPED') THEN now() END
     WHERE cycle_id = $1 AND step_name = $5 AND status = $2
    RETURNING id, cycle_id, step_name, batch_id, status, note
), noted AS (
    INSERT INTO irp_notification (kind, severity, batch_id, details)
    SELECT 'step_finished', CASE WHEN status = 'FAILED' THEN 'critical' ELSE 'info' END,
           batch_id,
           jsonb_build_object('cycle_id', cycle_id, 'step', step_name, 'status', status,
                              'note', note)
      FROM moved
     WHERE status IN ('COMPLETED', 'FAILED', 'SKIPPED')
)
SELECT id FROM moved

-- name: step_run_note
UPDATE irp_step_run SET note = $2, updated_ts = now() WHERE id = $1

-- name: step_run_approve
-- An operator approves a step (before or when it waits for approval).
INSERT INTO irp_step_run (cycle_id, step_name, status, approved_by, approved_ts)
VALUES ($1, $2, 'WAITING', $3, now())
ON CONFLICT (cycle_id, step_name) DO UPDATE
   SET approved_by = EXCLUDED.approved_by, approved_ts = now(), updated_ts = now()
 WHERE irp_step_run.status IN ('WAITING', 'AWAITING_APPROVAL')
RETURNING id, status

-- name: step_batch_of_run
-- The batch a step run created (the unique step_run_id makes it at most one).
SELECT id, status FROM irp_batch WHERE step_run_id = $1

-- name: step_adopt_batch
-- A live batch an operator created by hand for this step's type becomes the step's batch (and
-- carries the step's id unless the operator gave it one).
UPDATE irp_batch SET step_run_id = $2, step_id = coalesce(step_id, $2)
 WHERE id = $1 AND step_run_id IS NULL
RETURNING id, status
