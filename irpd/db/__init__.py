"""PostgreSQL access: the only package of irpd that imports asyncpg."""
