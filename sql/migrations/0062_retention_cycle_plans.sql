-- Retention of cycles with plans (migration 0090): a batch and its step run point at each
-- other, so an import inserts batches without their step_run_id and links them once the step
-- runs are in. irp_import_rows gains the columns to leave NULL.
DROP FUNCTION irp_import_rows(regclass, json);

CREATE FUNCTION irp_import_rows(target regclass, rows json, nulled text[]) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    columns text;
    selected text;
    inserted bigint;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
           string_agg(CASE WHEN attname = ANY (nulled) THEN 'NULL' ELSE quote_ident(attname) END,
                      ', ' ORDER BY attnum)
      INTO columns, selected
      FROM pg_attribute
     WHERE attrelid = target AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM json_populate_recordset(NULL::%s, $1)',
                   target, columns, selected, target)
      USING rows;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    RETURN inserted;
END $$;
