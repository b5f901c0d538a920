"""A wrapper that keeps a credential out of reprs, log lines and error messages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from irpd.errors import ConfigError

REDACTED: Final = "***"


class Secret:
    """A credential whose ``repr``/``str``/format is ``'***'``; :meth:`reveal` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ConfigError("a secret must not be empty")
        self._value = value

    @classmethod
    def from_env(cls, name: str) -> Secret:
        """Read the secret from environment variable ``name`` (surrounding blanks stripped)."""
        value = os.environ.get(name, "").strip()
        if not value:
            raise ConfigError(f"environment variable {name} is not set or empty")
        return cls(value)

    @classmethod
    def from_file(cls, path: str | Path) -> Secret:
        """Read the secret from a credential file (its first non-blank line)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read credential file {path}: {exc.strerror}") from None
        for line in text.splitlines():
            if line.strip():
                return cls(line.strip())
        raise ConfigError(f"credential file {path} is empty")

    def reveal(self) -> str:
        """The clear value; only the transport's header builder should call this."""
        return self._value

    def __repr__(self) -> str:
        return f"'{REDACTED}'"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


class RedactedHeaderValue(str):
    """A header value that shows as ``'***'`` in reprs (tracebacks with locals, debuggers).

    aiohttp sends the real characters; anything that ``repr``s a headers mapping does not.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"'{REDACTED}'"


def scrub(text: str, *secrets: str) -> str:
    """Replace every occurrence of the given clear values in ``text`` with ``***``."""
    for value in secrets:
        if value:
            text = text.replace(value, REDACTED)
    return text
