-- The shards `worker` holds a live lease on, computed once per statement by the engine's bulk
-- writes (checking ownership per row with irp_owns_job made the planner scan every job).
CREATE FUNCTION irp_owned_shards(worker VARCHAR) RETURNS SMALLINT[]
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN coalesce(
        (SELECT array_agg(s.shard) FROM irp_shard s
          WHERE s.owner_worker_id = worker AND s.lease_expires_ts > now()),
        '{}'::SMALLINT[]);
