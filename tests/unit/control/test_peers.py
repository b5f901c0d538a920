"""The control socket's allow-list, decided on fabricated peer credentials."""

from __future__ import annotations

import grp
import os
import pwd
import socket

import pytest

from irpd.control.peers import Peer, PeerPolicy, peer_of


def _unused_uid() -> int:
    taken = {entry.pw_uid for entry in pwd.getpwall()}
    return next(uid for uid in range(61_000, 65_000) if uid not in taken)


def _unused_gid() -> int:
    taken = {entry.gr_gid for entry in grp.getgrall()}
    return next(gid for gid in range(61_000, 65_000) if gid not in taken)


STRANGER = _unused_uid()
LONE_GID = _unused_gid()


def test_root_and_the_daemons_own_user_are_always_allowed() -> None:
    policy = PeerPolicy()
    assert policy.allows(Peer(pid=1, uid=0, gid=0))
    assert policy.allows(Peer(pid=1, uid=os.getuid(), gid=os.getgid()))


def test_anyone_else_is_refused_by_default() -> None:
    assert not PeerPolicy().allows(Peer(pid=1, uid=STRANGER, gid=LONE_GID))


def test_listed_uids_are_allowed() -> None:
    policy = PeerPolicy(uids=[STRANGER])
    assert policy.allows(Peer(pid=1, uid=STRANGER, gid=LONE_GID))
    assert not policy.allows(Peer(pid=1, uid=STRANGER + 1, gid=LONE_GID))


def test_a_numeric_group_allows_its_primary_members() -> None:
    policy = PeerPolicy(groups=[str(LONE_GID)])
    assert policy.allows(Peer(pid=1, uid=STRANGER, gid=LONE_GID))
    assert not policy.allows(Peer(pid=1, uid=STRANGER, gid=LONE_GID + 1))


def test_a_named_group_is_resolved() -> None:
    name = grp.getgrgid(0).gr_name
    policy = PeerPolicy(groups=[name])
    assert policy.allows(Peer(pid=1, uid=STRANGER, gid=0))


def test_supplementary_groups_of_a_known_user_count() -> None:
    for group in grp.getgrall():
        for member in group.gr_mem:
            try:
                user = pwd.getpwnam(member)
            except KeyError:
                continue
            if user.pw_gid == group.gr_gid or user.pw_uid in (0, os.getuid()):
                continue
            policy = PeerPolicy(groups=[group.gr_name])
            assert policy.allows(Peer(pid=1, uid=user.pw_uid, gid=user.pw_gid))
            return
    pytest.skip("no user on this host has a supplementary group to test with")


def test_unknown_group_names_allow_nobody() -> None:
    policy = PeerPolicy(groups=["no-such-group-for-irpd-tests"])
    assert not policy.allows(Peer(pid=1, uid=STRANGER, gid=LONE_GID))


def test_peer_of_reads_the_real_credentials() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        peer = peer_of(left)
    assert peer == Peer(pid=os.getpid(), uid=os.getuid(), gid=os.getgid())
