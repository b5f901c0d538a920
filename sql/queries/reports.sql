-- name: report_batch
SELECT * FROM irp_batch_report WHERE batch_id = $1

-- name: report_batches
-- $1: batch status or NULL, $2: next action or NULL, $3: cycle id or NULL.
SELECT * FROM irp_batch_report
 WHERE ($1::text IS NULL OR status = $1)
   AND ($2::text IS NULL OR next_action = $2)
   AND ($3::bigint IS NULL OR cycle_id = $3)
 ORDER BY batch_id

-- name: report_job
SELECT * FROM irp_job_report WHERE job_id = $1

-- name: report_batch_jobs
-- $1: batch id, $2: next action or NULL, $3: job status or NULL.
SELECT * FROM irp_job_report
 WHERE batch_id = $1
   AND ($2::text IS NULL OR next_action = $2)
   AND ($3::text IS NULL OR status = $3)
 ORDER BY job_id

-- name: report_table_fingerprints
-- Diagnostic: row count and an md5 of the full contents of every irp_* table (tests use it to
-- prove that a refused operation wrote nothing).
SELECT t.table_name::text AS table_name,
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM %I', t.table_name), false, true, '')
       ))[1]::text::bigint AS row_count,
       (xpath('/row/h/text()',
              query_to_xml(format('SELECT md5(COALESCE(string_agg(x::text, %L ORDER BY x::text), %L)) AS h FROM %I x',
                                  E'\n', '', t.table_name), false, true, '')
       ))[1]::text AS content_md5
  FROM information_schema.tables t
 WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
   AND t.table_name LIKE 'irp\_%'
 ORDER BY t.table_name
