"""irpd's SQL: numbered migrations and named queries, loaded as package data.

Queries live in ``sql/queries/*.sql``; each starts with a ``-- name: <query_name>`` line and
runs until the next such line. Names are unique across files. Migrations live in
``sql/migrations/NNNN_<slug>.sql`` and are applied in number order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType

_NAME_LINE = re.compile(r"^--\s*name:\s*(?P<name>[a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
_MIGRATION_FILE = re.compile(r"^(?P<version>\d{4})_(?P<slug>[a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema migration."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the migration text, recorded when applied."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def _folder(name: str) -> Traversable:
    return resources.files(__name__).joinpath(name)


def parse_queries(text: str, source: str) -> dict[str, str]:
    """Split one ``.sql`` file into ``{name: sql}`` by its ``-- name:`` headers."""
    matches = list(_NAME_LINE.finditer(text))
    if not matches:
        raise ValueError(f"{source}: no '-- name: <query>' header found")
    preamble = text[: matches[0].start()].splitlines()
    if any(line.strip() and not line.lstrip().startswith("--") for line in preamble):
        raise ValueError(f"{source}: text before the first '-- name:' header")
    queries: dict[str, str] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end].strip().rstrip(";").strip()
        name = match.group("name")
        if not body:
            raise ValueError(f"{source}: query {name!r} is empty")
        if name in queries:
            raise ValueError(f"{source}: query {name!r} defined twice")
        queries[name] = body
    return queries


def load_queries() -> Mapping[str, str]:
    """Every named query of ``sql/queries``, read-only."""
    queries: dict[str, str] = {}
    files = sorted(
        (f for f in _folder("queries").iterdir() if f.name.endswith(".sql")), key=lambda f: f.name
    )
    for file in files:
        for name, body in parse_queries(file.read_text(encoding="utf-8"), file.name).items():
            if name in queries:
                raise ValueError(f"{file.name}: query {name!r} is already defined in another file")
            queries[name] = body
    return MappingProxyType(queries)


def load_migrations() -> list[Migration]:
    """Every migration of ``sql/migrations`` in version order; versions must be unique."""
    found: list[Migration] = []
    for file in _folder("migrations").iterdir():
        match = _MIGRATION_FILE.match(file.name)
        if match is None:
            continue
        found.append(
            Migration(
                version=int(match.group("version")),
                name=match.group("slug"),
                sql=file.read_text(encoding="utf-8"),
            )
        )
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in sql/migrations: {versions}")
    return found
