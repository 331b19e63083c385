"""The user namespace worker (see userns.py): ``python -m podbay.runtime.process.userns_worker JOB ARGS``.

Jobs: ``unpack BLOB TARGET`` applies a layer; ``remove PATH`` deletes a folder. Standard library only.
"""

from __future__ import annotations

# Everything is imported before entering the user namespace: its root may not be able to read
# podbay's files (an install under /root).
import contextlib
import gzip  # noqa: F401 - used by unpack.open_decompressed
import os
import shutil
import sys

from podbay.runtime.images.unpack import unpack_layer
from podbay.runtime.process.channel import ENV_FD, Channel
from podbay.runtime.syscalls import CLONE_NEWUSER, unshare

with contextlib.suppress(ImportError):
    import zstandard  # noqa: F401 - optional, for zstd layers


def become_root(channel: Channel) -> None:
    """Unshare a user namespace, let the parent map it, and become its root."""
    unshare(CLONE_NEWUSER)
    channel.send("unshared")
    if channel.recv("mapped") is None:
        raise SystemExit(1)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    channel = Channel.from_fd(int(os.environ[ENV_FD]))
    stage = "user namespace"
    try:
        become_root(channel)
        job, args = argv[0], argv[1:]
        stage = job
        if job == "unpack":
            result = unpack_layer(args[0], args[1])
            channel.send("done", diff_id=result.diff_id,
                         skipped_devices=result.skipped_devices, unmapped_owners=result.unmapped_owners)
        elif job == "remove":
            shutil.rmtree(args[0])
            channel.send("done")
        else:
            raise ValueError(f"unknown job {job!r}")
    except Exception as err:
        channel.send("error", stage=stage, message=str(err), errno=getattr(err, "errno", 0) or 0)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
