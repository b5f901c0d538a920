"""Who is on the other end of the control socket, and may they use it."""

from __future__ import annotations

import grp
import os
import pwd
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Peer:
    """Credentials of a connected client (SO_PEERCRED)."""

    pid: int
    uid: int
    gid: int


def peer_of(sock: socket.socket) -> Peer:
    """Read the peer's credentials from a connected Unix socket."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return Peer(pid, uid, gid)


def _gid(group: str) -> int | None:
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        return None


def _groups_of(uid: int, gid: int) -> set[int]:
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        return {gid}
    return set(os.getgrouplist(name, gid))


class PeerPolicy:
    """Allow-list: root, the daemon's own user, listed uids, and members of listed groups."""

    def __init__(self, uids: Iterable[int] = (), groups: Iterable[str] = ()) -> None:
        self._uids = {0, os.getuid(), *uids}
        self._gids = {g for g in (_gid(name) for name in groups) if g is not None}

    def allows(self, peer: Peer) -> bool:
        """True when ``peer`` may send commands."""
        if peer.uid in self._uids:
            return True
        return bool(self._gids and self._gids & _groups_of(peer.uid, peer.gid))
