-- Retention (issue 17): purging an archived cycle deletes its rows a bounded chunk at a time.
-- Deleting a referenced row makes PostgreSQL look for rows that still reference it; these two
-- foreign keys had no index, so each deleted job configuration or configuration would have
-- cost a scan of every job configuration ever made.
CREATE INDEX irp_job_configuration_override_idx ON irp_job_configuration (override_job_configuration_id)
    WHERE override_job_configuration_id IS NOT NULL;
CREATE INDEX irp_job_configuration_configuration_idx ON irp_job_configuration (configuration_id);

-- Importing an exported cycle back: insert rows given as JSON (row_to_json of each row) into
-- one of irpd's tables, every column but the generated ones (irp_job.engine_phase).
CREATE FUNCTION irp_import_rows(target regclass, rows json) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    columns text;
    inserted bigint;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO columns
      FROM pg_attribute
     WHERE attrelid = target AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM json_populate_recordset(NULL::%s, $1)',
                   target, columns, columns, target)
      USING rows;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    RETURN inserted;
END $$;
