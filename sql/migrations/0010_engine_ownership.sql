-- Several irpd processes may share one database. Work is split into 64 shards (job id mod 64);
-- a process works only on shards it holds a live lease on, renews its leases while healthy, and
-- another process takes a shard over once its lease has expired. `generation` counts takeovers.

CREATE TABLE irp_worker (
    worker_id    VARCHAR(200) PRIMARY KEY,
    hostname     VARCHAR(255) NOT NULL,
    pid          INTEGER      NOT NULL,
    version      VARCHAR(50)  NOT NULL,
    started_ts   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    heartbeat_ts TIMESTAMPTZ  NOT NULL DEFAULT now(),
    stopped_ts   TIMESTAMPTZ
);

CREATE TABLE irp_shard (
    shard            SMALLINT PRIMARY KEY,
    owner_worker_id  VARCHAR(200) REFERENCES irp_worker (worker_id) ON DELETE SET NULL,
    lease_expires_ts TIMESTAMPTZ,
    generation       BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT irp_shard_range CHECK (shard BETWEEN 0 AND 63)
);
INSERT INTO irp_shard (shard) SELECT generate_series(0, 63);

-- Which shard a job belongs to (kept in one place: the engine's queries call it).
CREATE FUNCTION irp_job_shard(job_id BIGINT) RETURNS SMALLINT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (job_id % 64)::SMALLINT;

-- True when `worker` holds a live lease on the shard of `job_id` (the engine's write fence).
CREATE FUNCTION irp_owns_job(worker VARCHAR, job_id BIGINT) RETURNS BOOLEAN
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN EXISTS (
        SELECT 1 FROM irp_shard s
         WHERE s.shard = irp_job_shard(job_id)
           AND s.owner_worker_id = worker
           AND s.lease_expires_ts > now());
