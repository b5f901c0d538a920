-- name: ping
SELECT true

-- name: migration_lock
-- Serialises concurrent migrators (two daemons starting at once); released at commit.
SELECT pg_advisory_xact_lock(hashtext('irpd.migrations'))

-- name: migration_table_create
CREATE TABLE IF NOT EXISTS irp_schema_migration (
    version    INTEGER PRIMARY KEY,
    name       TEXT        NOT NULL,
    checksum   CHAR(64)    NOT NULL,
    applied_ts TIMESTAMPTZ NOT NULL DEFAULT now()
)

-- name: migration_applied
SELECT version, name, checksum, applied_ts FROM irp_schema_migration ORDER BY version

-- name: migration_record
INSERT INTO irp_schema_migration (version, name, checksum) VALUES ($1, $2, $3)
