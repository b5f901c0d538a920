-- name: metrics_job_counts
-- Jobs (not skipped) by batch type and status from the live batch counts (migration 0014):
-- one small row per batch and status, never a scan of irp_job.
SELECT b.batch_type, c.status, sum(c.n)::bigint AS n
  FROM irp_batch_job_count c
  JOIN irp_batch b ON b.id = c.batch_id
 WHERE NOT c.skipped
 GROUP BY 1, 2
HAVING sum(c.n) > 0
 ORDER BY 1, 2

-- name: metrics_batch_counts
-- Batches by batch type and status (irp_batch is small: one row per batch).
SELECT batch_type, status, count(*)::bigint AS n
  FROM irp_batch
 GROUP BY 1, 2
 ORDER BY 1, 2

-- name: metrics_batch_types
-- The batch type of the batches whose jobs the tracker holds (primary-key lookups of the
-- batches not seen before; a batch's type never changes).
SELECT id, batch_type
  FROM irp_batch
 WHERE id = ANY($1::bigint[])
