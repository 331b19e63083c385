"""A sealed in-memory copy of the Python interpreter, run by inits that enter a container whose
user namespace is the host's (rootful ``hostUsers: true``).

An init sits in the container's pid namespace between its fork and its ``execve``, and it runs
the host's interpreter: the runc CVE-2019-5736 class. It is never dumpable, so opening
``/proc/PID/exe`` needs CAP_SYS_PTRACE in the host's user namespace, and in a user namespace of
its own a container never has that, nor may its root write a file owned by the host's root.
In the host's user namespace a container granted SYS_PTRACE has both; there the init runs from a
sealed memfd (runc's fix), so ``/proc/PID/exe`` leads to a copy no one can write.
"""

from __future__ import annotations

import fcntl
import functools
import os
import sys

SEALS = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE


@functools.cache
def interpreter() -> int:
    """A descriptor of the sealed copy, made once per process (about 6 ms and 7 MB, shared by its inits)."""
    copy = os.memfd_create("podbay-python", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    with open(os.path.realpath(sys.executable), "rb") as source:
        size = os.fstat(source.fileno()).st_size
        offset = 0
        while offset < size:
            offset += os.sendfile(copy, source.fileno(), offset, size - offset)
    fcntl.fcntl(copy, fcntl.F_ADD_SEALS, SEALS)
    return copy


def needed(mapping_is_identity: bool, joins_user_namespace: bool) -> bool:
    """Whether an init would enter a container in the host's user namespace with the host's privileges."""
    return os.geteuid() == 0 and mapping_is_identity and not joins_user_namespace
