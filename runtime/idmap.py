"""User namespace id mappings: rootless from /etc/subuid and /etc/subgid, rootful onto podbay's range.

A mapping is what ``/proc/PID/uid_map`` holds: lines of (container id, host id, count).
Rootless podbay writes it through the setuid ``newuidmap``/``newgidmap`` helpers of the
``uidmap`` package (podbay itself has no setuid bits); root writes the files directly.

Rootful pods get a user namespace too (Kubernetes ``hostUsers: false``): container ids
0..65535 map onto a host range reserved for podbay: the ``podbay`` entry of /etc/subuid
and /etc/subgid when there is one, else ``ROOTFUL_DEFAULT_START``. Image layers are
unpacked with their owners shifted into that range, once per mapping (see images/store.py).
"""

from __future__ import annotations

import binascii
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass

CONTAINER_IDS = 65536
# 2^31 - 2^24: far above the ids distributions hand out (useradd's SUB_UID_MAX is 600100000).
ROOTFUL_DEFAULT_START = 2_130_706_432
ROOTFUL_USER = "podbay"


class IdMapError(Exception):
    pass


Extent = tuple[int, int, int]  # container id, host id, count


@dataclass(frozen=True)
class IdMapping:
    uids: tuple[Extent, ...]
    gids: tuple[Extent, ...]
    warning: str = ""

    @property
    def identity(self) -> bool:
        """The host's own ids (no user namespace)."""
        return not self.uids

    @property
    def key(self) -> str:
        """A short, stable name for this mapping (unpacked layers are kept per mapping)."""
        if self.identity:
            return "host"
        text = repr((self.uids, self.gids)).encode()
        return f"{self.uids[0][1]}-{binascii.crc32(text):08x}"  # crc32: hashlib costs 5 ms to import

    def to_host(self, container_id: int, *, group: bool = False) -> int:
        """The host id of a container id (-1 when it is not mapped)."""
        if self.identity:
            return container_id
        for inside, outside, count in self.gids if group else self.uids:
            if inside <= container_id < inside + count:
                return outside + container_id - inside
        return -1

    def to_json(self) -> dict[str, list[list[int]]]:
        return {"uids": [list(e) for e in self.uids], "gids": [list(e) for e in self.gids]}


HOST = IdMapping((), ())


def read_ranges(path: str, user: str, uid: int) -> list[tuple[int, int]]:
    """The (start, count) ranges of ``user`` (by name or uid) in a subuid/subgid file."""
    ranges: list[tuple[int, int]] = []
    try:
        with open(path) as file:
            lines = file.read().splitlines()
    except FileNotFoundError:
        return ranges
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) != 3 or parts[0] not in (user, str(uid)):
            continue
        try:
            ranges.append((int(parts[1]), int(parts[2])))
        except ValueError:
            continue
    return ranges


def _extents(own: int, ranges: list[tuple[int, int]]) -> tuple[Extent, ...]:
    """Container 0 -> ``own``, then container 1.. onto the ranges, up to 65536 ids in all."""
    extents: list[Extent] = [(0, own, 1)]
    next_inside = 1
    for start, count in ranges:
        take = min(count, CONTAINER_IDS - next_inside)
        if take <= 0:
            break
        extents.append((next_inside, start, take))
        next_inside += take
    return tuple(extents)


def rootless_mapping(subuid: str = "/etc/subuid", subgid: str = "/etc/subgid") -> IdMapping:
    uid, gid = os.getuid(), os.getgid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    uid_ranges, gid_ranges = read_ranges(subuid, user, uid), read_ranges(subgid, user, uid)
    missing = shutil.which("newuidmap") is None or shutil.which("newgidmap") is None
    if missing or not uid_ranges or not gid_ranges:
        why = ("newuidmap/newgidmap are not installed (apt-get install uidmap)" if missing
               else f"user {user} has no range in {subuid if not uid_ranges else subgid}")
        return IdMapping(((0, uid, 1),), ((0, gid, 1),),
                         warning=f"{why}: containers get a single id (only root, uid 0, maps to you); "
                                 f"images with other owners or users will not work. Add a range, "
                                 f"for example: usermod --add-subuids 100000-165535 "
                                 f"--add-subgids 100000-165535 {user}")
    return IdMapping(_extents(uid, uid_ranges), _extents(gid, gid_ranges))


def rootful_mapping(subuid: str = "/etc/subuid", subgid: str = "/etc/subgid") -> IdMapping:
    uid_ranges = read_ranges(subuid, ROOTFUL_USER, -1)
    gid_ranges = read_ranges(subgid, ROOTFUL_USER, -1)
    uid_start = uid_ranges[0][0] if uid_ranges and uid_ranges[0][1] >= CONTAINER_IDS else ROOTFUL_DEFAULT_START
    gid_start = gid_ranges[0][0] if gid_ranges and gid_ranges[0][1] >= CONTAINER_IDS else ROOTFUL_DEFAULT_START
    return IdMapping(((0, uid_start, CONTAINER_IDS),), ((0, gid_start, CONTAINER_IDS),))


def default_mapping(host_users: bool | None = None) -> IdMapping:
    """The mapping a pod gets: rootless always its user's; root its own range unless ``hostUsers: true``."""
    if os.geteuid() != 0:
        return rootless_mapping()
    return HOST if host_users else rootful_mapping()


def write_mapping(pid: int, mapping: IdMapping) -> None:
    """Give process ``pid`` (which has just unshared its user namespace) its id maps."""
    own_only = mapping.uids == ((0, os.getuid(), 1),) and mapping.gids == ((0, os.getgid(), 1),)
    if os.geteuid() == 0 or own_only:
        # An unprivileged user may map its own id alone, once setgroups is denied.
        files = (("setgroups", "deny\n"),) if os.geteuid() != 0 else ()
        for name, text in files + tuple(
                (name, "".join(f"{inside} {outside} {count}\n" for inside, outside, count in extents))
                for name, extents in (("uid_map", mapping.uids), ("gid_map", mapping.gids))):
            try:
                with open(f"/proc/{pid}/{name}", "w") as file:
                    file.write(text)
            except OSError as err:
                raise IdMapError(f"write /proc/{pid}/{name}: {err.strerror}") from err
        return
    for tool, extents in (("newuidmap", mapping.uids), ("newgidmap", mapping.gids)):
        argv = [tool, str(pid)] + [str(n) for extent in extents for n in extent]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
        except FileNotFoundError as err:
            raise IdMapError(f"{tool} is not installed (apt-get install uidmap)") from err
        if done.returncode != 0:
            raise IdMapError(f"{' '.join(argv)}: {done.stderr.strip() or f'exit status {done.returncode}'}")
