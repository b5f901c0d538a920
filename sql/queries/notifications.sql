-- name: notification_insert
-- A notification the daemon raises itself (degraded states); batch and job notifications are
-- written by the triggers of migration 0080.
INSERT INTO irp_notification (kind, severity, details) VALUES ($1, $2, $3) RETURNING id

-- name: notification_unrouted_age
-- Whether a burst is ready to route: how many wait, seconds since the newest and the oldest.
SELECT count(*) AS waiting,
       coalesce(extract(epoch FROM now() - max(created_ts)), 0)::float8 AS quiet_seconds,
       coalesce(extract(epoch FROM now() - min(created_ts)), 0)::float8 AS oldest_seconds
  FROM irp_notification
 WHERE routed_ts IS NULL

-- name: notification_take
-- Up to $1 unrouted notifications (locked: another daemon skips them) with their cycle and
-- batch type.
WITH taken AS (
    SELECT id FROM irp_notification
     WHERE routed_ts IS NULL
     ORDER BY id
     LIMIT $1
       FOR UPDATE SKIP LOCKED
)
SELECT n.id, n.idempotency_key, n.kind, n.severity, n.batch_id, n.job_id, n.details,
       n.created_ts, b.batch_type, coalesce(cy.cycle_name, named.cycle_name) AS cycle_name
  FROM taken t
  JOIN irp_notification n ON n.id = t.id
  LEFT JOIN irp_batch b ON b.id = n.batch_id
  LEFT JOIN irp_configuration c ON c.id = b.configuration_id
  LEFT JOIN irp_cycle cy ON cy.id = c.cycle_id
  -- cycle step notifications name their cycle (a skipped step has no batch)
  LEFT JOIN irp_cycle named ON named.id = (n.details ->> 'cycle_id')::bigint
 ORDER BY n.id

-- name: notification_message_insert
-- $1: [{channel, key, ids, content}]; a message already stored under its key is kept.
INSERT INTO irp_notification_message (channel, idempotency_key, notification_ids, content)
SELECT m.channel, m.key::uuid, ARRAY(SELECT jsonb_array_elements_text(m.ids)::bigint), m.content
  FROM jsonb_to_recordset($1::jsonb) AS m (channel text, key text, ids jsonb, content jsonb)
ON CONFLICT (channel, idempotency_key) DO NOTHING

-- name: notification_mark_routed
-- $1: [{id, channels}]
UPDATE irp_notification n
   SET routed_ts = now(),
       channels = ARRAY(SELECT jsonb_array_elements_text(r.channels))
  FROM jsonb_to_recordset($1::jsonb) AS r (id bigint, channels jsonb)
 WHERE n.id = r.id

-- name: notification_claim
-- Up to $3 due messages of channel $1 for worker $2, claimed for $4 seconds (a claim of this
-- worker's own, left by a crash, is taken again at once).
UPDATE irp_notification_message m
   SET claimed_by = $2, claimed_until = now() + make_interval(secs => $4), updated_ts = now()
 WHERE m.id IN (
        SELECT id FROM irp_notification_message
         WHERE status = 'PENDING' AND channel = $1 AND next_attempt_ts <= now()
           AND (claimed_until IS NULL OR claimed_until < now() OR claimed_by = $2)
         ORDER BY next_attempt_ts, id
         LIMIT $3
           FOR UPDATE SKIP LOCKED)
RETURNING m.id, m.channel, m.idempotency_key, m.content, m.attempts

-- name: notification_delivered
UPDATE irp_notification_message
   SET status = 'DELIVERED', attempts = attempts + 1, delivered_ts = now(), last_error = NULL,
       claimed_by = NULL, claimed_until = NULL, updated_ts = now()
 WHERE id = $1 AND status = 'PENDING'

-- name: notification_attempt_failed
-- $1 id, $2 seconds to the next attempt, $3 the error, $4 permanent, $5 give up after seconds.
UPDATE irp_notification_message
   SET attempts = attempts + 1,
       last_error = $3,
       status = CASE WHEN $4 OR coalesce(requeued_ts, created_ts) < now() - make_interval(secs => $5)
                     THEN 'FAILED' ELSE 'PENDING' END,
       next_attempt_ts = now() + make_interval(secs => $2),
       claimed_by = NULL, claimed_until = NULL, updated_ts = now()
 WHERE id = $1 AND status = 'PENDING'
RETURNING status

-- name: notification_orphans
-- Pending messages of channels no longer configured ($1: the configured names) fail.
UPDATE irp_notification_message
   SET status = 'FAILED', last_error = 'channel ' || channel || ' is no longer configured',
       claimed_by = NULL, claimed_until = NULL, updated_ts = now()
 WHERE status = 'PENDING' AND NOT (channel = ANY ($1::text[]))

-- name: notification_depth
-- The outbox's depth for the metrics (partial indexes: cheap while the outbox drains).
SELECT (SELECT count(*) FROM irp_notification WHERE routed_ts IS NULL) AS unrouted,
       (SELECT count(*) FROM irp_notification_message WHERE status = 'PENDING') AS pending,
       (SELECT count(*) FROM irp_notification_message WHERE status = 'FAILED') AS failed,
       coalesce(extract(epoch FROM now() - least(
           (SELECT min(created_ts) FROM irp_notification WHERE routed_ts IS NULL),
           (SELECT min(coalesce(requeued_ts, created_ts)) FROM irp_notification_message
             WHERE status = 'PENDING'))), 0)::float8 AS oldest_seconds

-- name: notification_list
-- Messages, newest first: $1 status or NULL, $2 at most.
SELECT id, channel, status, attempts, idempotency_key, notification_ids,
       content ->> 'title' AS title, content ->> 'severity' AS severity,
       (content ->> 'digest')::boolean AS digest, last_error, created_ts, next_attempt_ts,
       delivered_ts
  FROM irp_notification_message
 WHERE ($1::text IS NULL OR status = $1)
 ORDER BY id DESC
 LIMIT $2

-- name: notification_summary
SELECT (SELECT count(*) FROM irp_notification WHERE routed_ts IS NULL) AS unrouted,
       (SELECT count(*) FROM irp_notification
         WHERE routed_ts IS NOT NULL AND channels = '{}') AS no_channel,
       (SELECT count(*) FROM irp_notification_message WHERE status = 'PENDING') AS pending,
       (SELECT count(*) FROM irp_notification_message WHERE status = 'FAILED') AS failed,
       (SELECT count(*) FROM irp_notification_message WHERE status = 'DELIVERED') AS delivered

-- name: notification_resend
-- Send message $1 again (PENDING now; same idempotency key).
UPDATE irp_notification_message
   SET status = 'PENDING', next_attempt_ts = now(), requeued_ts = now(), claimed_by = NULL,
       claimed_until = NULL, updated_ts = now()
 WHERE id = $1
RETURNING id, channel, status, idempotency_key, attempts, last_error
