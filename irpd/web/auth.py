"""Who is asking, and may they act: accounts, API tokens, proxy headers, sessions and CSRF.

Identity, in order: an ``Authorization: Bearer`` API token; the trusted reverse proxy's user
header (only from ``web.trusted_proxies``); a signed session cookie from the login form; else
``web.anonymous_role`` (none by default: log in first). Roles: ``viewer`` reads, ``operator``
also acts. Every browser action must carry the session's CSRF token (form field
``csrf_token`` or header ``X-CSRF-Token``); API-token requests carry no cookie and need none.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from irpd.config import WebConfig
from irpd.errors import ConfigError

Role = Literal["viewer", "operator"]
ROLES: tuple[Role, ...] = ("viewer", "operator")
SESSION_COOKIE = "irpd_session"

_HASHER = PasswordHasher()
#: verified against when the user does not exist, so that timing does not tell
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    """An argon2id hash for the accounts file."""
    return _HASHER.hash(password)


def token_digest(token: str) -> str:
    """The sha256 hex digest stored for an API token (the token itself is never stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Identity:
    """The user behind a request."""

    user: str
    role: Role
    via: str  # token, proxy, session, anonymous

    @property
    def can_act(self) -> bool:
        """Operators may change things; viewers only look."""
        return self.role == "operator"


@dataclass(frozen=True, slots=True)
class Account:
    """A built-in account."""

    role: Role
    password_hash: str


def _role(value: Any, where: str) -> Role:
    if value not in ROLES:
        raise ConfigError(f"{where}: role must be 'viewer' or 'operator', got {value!r}")
    role: Role = value
    return role


@dataclass(frozen=True, slots=True)
class Accounts:
    """Users (argon2 hashes) and API tokens (sha256 digests) from ``web.accounts_file``."""

    users: Mapping[str, Account]
    tokens: Mapping[str, tuple[str, Role]]  # digest -> (name, role)

    @classmethod
    def load(cls, path: str) -> Accounts:
        """Read the accounts file (empty path: no accounts)."""
        if not path:
            return cls({}, {})
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"web.accounts_file: {path} not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"web.accounts_file: {path} is not valid TOML: {exc}") from None
        unknown = sorted(set(raw) - {"users", "tokens"})
        if unknown:
            raise ConfigError(f"{path}: unknown section [{unknown[0]}] (known: users, tokens)")
        users: dict[str, Account] = {}
        for name, entry in dict(raw.get("users", {})).items():
            where = f"{path}: [users.{name}]"
            hashed = entry.get("password_hash") if isinstance(entry, dict) else None
            if not isinstance(hashed, str) or not hashed.startswith("$argon2"):
                raise ConfigError(f"{where}: password_hash must be an argon2 hash")
            users[name] = Account(_role(entry.get("role"), where), hashed)
        tokens: dict[str, tuple[str, Role]] = {}
        for name, entry in dict(raw.get("tokens", {})).items():
            where = f"{path}: [tokens.{name}]"
            digest = entry.get("token_sha256") if isinstance(entry, dict) else None
            if not isinstance(digest, str) or len(digest) != 64:
                raise ConfigError(f"{where}: token_sha256 must be a sha256 hex digest")
            tokens[digest.lower()] = (name, _role(entry.get("role"), where))
        return cls(users, tokens)

    def login(self, user: str, password: str) -> Identity | None:
        """The identity when the password matches (argon2), else None."""
        account = self.users.get(user)
        try:
            _HASHER.verify(account.password_hash if account else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return Identity(user, account.role, "session") if account else None

    def bearer(self, token: str) -> Identity | None:
        """The identity of an API token."""
        found = self.tokens.get(token_digest(token))
        return Identity(f"token:{found[0]}", found[1], "token") if found else None


class Signer:
    """Signs and checks session cookies (HMAC-SHA256) and derives CSRF tokens."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_file(cls, path: str) -> Signer:
        """The key in ``path`` (at least 32 bytes), or a new random one when empty."""
        if not path:
            return cls(secrets.token_bytes(32))
        try:
            key = Path(path).read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"web.session_key_file: cannot read {path}: {exc}") from None
        if len(key) < 32:
            raise ConfigError(f"web.session_key_file: {path} must hold at least 32 bytes")
        return cls(key)

    def _mac(self, data: bytes) -> str:
        digest = hmac.new(self._key, data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def dumps(self, payload: Mapping[str, Any]) -> str:
        """``base64(json).mac``"""
        body = base64.urlsafe_b64encode(json.dumps(dict(payload)).encode()).decode().rstrip("=")
        return f"{body}.{self._mac(body.encode())}"

    def loads(self, value: str) -> dict[str, Any] | None:
        """The payload of a cookie that is intact and not expired, else None."""
        body, _, mac = value.partition(".")
        if not body or not hmac.compare_digest(mac, self._mac(body.encode())):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        if not isinstance(payload, dict) or float(payload.get("exp", 0)) < time.time():
            return None
        return payload

    def csrf(self, sid: str) -> str:
        """The CSRF token of a session."""
        return self._mac(f"csrf:{sid}".encode())


def new_session(hours: float, identity: Identity | None = None) -> dict[str, Any]:
    """A fresh session payload (a new id; the user when logged in)."""
    payload: dict[str, Any] = {"sid": secrets.token_urlsafe(18), "exp": time.time() + hours * 3600}
    if identity is not None:
        payload.update(user=identity.user, role=identity.role)
    return payload


class Networks:
    """The trusted proxies' addresses."""

    def __init__(self, entries: Sequence[str]) -> None:
        try:
            self._nets = [ipaddress.ip_network(e, strict=False) for e in entries]
        except ValueError as exc:
            raise ConfigError(f"web.trusted_proxies: {exc}") from None

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str) or not self._nets:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._nets)


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """The web section's security settings, checked at start."""

    anonymous_role: Role | None
    proxy_user_header: str
    proxy_role_header: str
    proxies: Networks
    session_hours: float
    cookie_secure: bool

    @classmethod
    def from_config(cls, web: WebConfig) -> AuthSettings:
        """Validate ``web``."""
        anonymous = web.anonymous_role or None
        if anonymous is not None:
            anonymous = _role(anonymous, "web.anonymous_role")
        if web.proxy_user_header and not web.trusted_proxies:
            raise ConfigError("web.proxy_user_header: set web.trusted_proxies too")
        return cls(
            anonymous,
            web.proxy_user_header,
            web.proxy_role_header,
            Networks(web.trusted_proxies),
            web.session_hours,
            web.cookie_secure,
        )


def proxy_identity(
    settings: AuthSettings, peer: str | None, headers: Mapping[str, str]
) -> Identity | None:
    """The user named by a trusted proxy's header; None from anyone else."""
    if not settings.proxy_user_header or peer not in settings.proxies:
        return None
    user = headers.get(settings.proxy_user_header, "").strip()
    if not user or len(user) > 200:
        return None
    role_text = headers.get(settings.proxy_role_header, "") if settings.proxy_role_header else ""
    role: Role = "operator" if role_text.strip().lower() == "operator" else "viewer"
    return Identity(user, role, "proxy")
