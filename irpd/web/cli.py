"""``irpd web hash-password`` and ``irpd web new-token``: lines for the accounts file."""

from __future__ import annotations

import getpass
import secrets
import sys

from irpd.web.auth import hash_password, token_digest


def web_tool(action: str) -> int:
    """Print what the accounts file needs; 2 on bad input."""
    if action == "hash-password":
        if sys.stdin.isatty():
            password = getpass.getpass("password: ")
        else:
            password = sys.stdin.readline().rstrip("\n")
        if len(password) < 8:
            print("irpd: a password needs at least 8 characters", file=sys.stderr)
            return 2
        print(f'password_hash = "{hash_password(password)}"')
        return 0
    token = secrets.token_urlsafe(32)
    print(f"token (give it to the program, it is not stored): {token}")
    print(f'token_sha256 = "{token_digest(token)}"')
    return 0
