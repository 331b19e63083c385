"""Who the container's process runs as, resolved in the container's own /etc/passwd and /etc/group.

containerd's rules: ``runAsUser`` wins over the image's USER; a user name must exist in the
image's passwd; the group is ``runAsGroup``, else the USER's ``:group`` part, else the
user's primary group from passwd, else 0; the user's groups in /etc/group, then the pod's
``supplementalGroups`` and ``fsGroup``, become the supplementary groups. Standard library only.
"""

from __future__ import annotations


class UserError(Exception):
    pass


class Identity:
    """Who the process runs as. A plain class: dataclasses and typing cost the init 10 ms to import."""

    __slots__ = ("gid", "groups", "home", "name", "uid")

    def __init__(self, uid: int, gid: int, groups: tuple[int, ...], home: str, name: str) -> None:
        self.uid, self.gid, self.groups, self.home, self.name = uid, gid, groups, home, name


def _read(path: str) -> list[list[str]]:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return [line.split(":") for line in file.read().splitlines() if line and not line.startswith("#")]
    except OSError:
        return []


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def resolve(image_user: str, run_as_user: int | None, run_as_group: int | None, *, supplemental: list[int],
            fs_group: int | None, etc: str = "/etc") -> Identity:
    passwd = [e for e in _read(f"{etc}/passwd") if len(e) >= 7]
    groups = [e for e in _read(f"{etc}/group") if len(e) >= 4]
    user_part, _, group_part = image_user.partition(":")
    entry: list[str] | None = None
    if run_as_user is not None:
        uid = run_as_user
        entry = next((e for e in passwd if _number(e[2]) == uid), None)
    elif user_part == "":
        uid = 0
        entry = next((e for e in passwd if _number(e[2]) == 0), None)
    elif (number := _number(user_part)) is not None:
        uid = number
        entry = next((e for e in passwd if _number(e[2]) == uid), None)
    else:
        entry = next((e for e in passwd if e[0] == user_part), None)
        if entry is None:
            raise UserError(f"unable to find user {user_part}: no matching entries in passwd file")
        uid = int(entry[2])
    if run_as_group is not None:
        gid = run_as_group
    elif group_part and run_as_user is None:
        if (number := _number(group_part)) is not None:
            gid = number
        else:
            found = next((g for g in groups if g[0] == group_part), None)
            if found is None:
                raise UserError(f"unable to find group {group_part}: no matching entries in group file")
            gid = int(found[2])
    elif entry is not None and _number(entry[3]) is not None:
        gid = int(entry[3])
    else:
        gid = 0
    extra: list[int] = []
    if entry is not None:
        extra += [int(g[2]) for g in groups if entry[0] in g[3].split(",") and g[2].isdigit()]
    extra += supplemental
    if fs_group is not None:
        extra.append(fs_group)
    # The primary group is in the list too, as runc's setgroups gives it (`id` shows it under groups=).
    ordered = tuple(dict.fromkeys([gid, *extra]))
    home = entry[5] if entry is not None and entry[5] else "/"
    return Identity(uid, gid, ordered, home, entry[0] if entry is not None else str(uid))
