"""OOM kills seen as they happen: one thread watching the ``memory.events`` of running containers
with inotify (the kernel marks the file modified when a counter moves), rather than guessing from
exit codes. The container's exit still reads the counter once more, so an exit handled before the
watcher's turn is not misreported."""

from __future__ import annotations

import contextlib
import os
import select
import threading
from collections.abc import Callable
from pathlib import Path

from podbay.runtime import syscalls
from podbay.runtime.cgroups.manager import read_keyed


class OomWatcher:
    def __init__(self) -> None:
        self.fd = syscalls.inotify_init()
        self.lock = threading.Lock()
        self.watches: dict[int, tuple[Path, int, Callable[[int], None]]] = {}  # wd -> (file, seen, callback)
        self.thread = threading.Thread(target=self._loop, name="oom watcher", daemon=True)
        self.thread.start()

    def watch(self, group: Path, on_kill: Callable[[int], None]) -> int:
        """Call ``on_kill(total)`` whenever ``group``'s oom_kill counter grows; returns a handle for unwatch."""
        events = group / "memory.events"
        with self.lock:
            wd = syscalls.inotify_add_watch(self.fd, str(events))
            self.watches[wd] = (events, read_keyed(events).get("oom_kill", 0), on_kill)
        return wd

    def unwatch(self, wd: int) -> None:
        with self.lock:
            if self.watches.pop(wd, None) is not None:
                with contextlib.suppress(OSError):  # the group is gone already: the kernel dropped it
                    syscalls.inotify_rm_watch(self.fd, wd)

    def _loop(self) -> None:
        """For the supervisor's whole life (a daemon thread: it ends with the process)."""
        while True:
            select.select([self.fd], [], [])
            try:
                data = os.read(self.fd, 64 * 1024)
            except BlockingIOError:
                continue
            for wd in set(syscalls.inotify_events(data)):
                self._check(wd)

    def _check(self, wd: int) -> None:
        with self.lock:
            entry = self.watches.get(wd)
            if entry is None:
                return
            events, seen, on_kill = entry
            total = read_keyed(events).get("oom_kill", 0)
            if total <= seen:
                return
            self.watches[wd] = (events, total, on_kill)
        on_kill(total)
