"""A container's image made present as the kubelet's image manager does (``EnsureImageExists``).

- A reference that does not parse: ``InvalidImageName`` (event ``InspectFailed``), never retried by pulling.
- ``Never``: the image must be in the store, else ``ErrImageNeverPull``.
- ``IfNotPresent``: pulled only when missing (event ``Pulled``: already present on machine).
- ``Always``: pulled every time a container starts (a registry answering "unchanged" costs one
  manifest request: the blobs are already stored).
- ``localhost/NAME`` (no port) is podman's name for an image made on this machine (built or loaded),
  which no registry serves: it is never pulled, whatever the policy; ``localhost:PORT/`` is a registry.
- A failed pull: event ``Failed``, reason ``ErrImagePull``; the image's backoff starts (the kubelet's
  10 s doubling to 300 s, per pod and image); while it lasts a start attempt is ``ImagePullBackOff``
  with event ``BackOff``. A success clears it, and the ``Pulled`` event says how long the pull took.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podbay.runtime.images.reference import ReferenceError, parse
from podbay.runtime.images.store import ImageRecord, ImageStore
from podbay.runtime.lifecycle.restarts import DEFAULT_BASE, DEFAULT_CAP

Event = Callable[[str, str, str], None]  # (type, reason, message)


class ImageError(Exception):
    """Why the container cannot start yet: ``reason`` for its waiting state; ``retry_in`` seconds."""

    def __init__(self, reason: str, message: str, retry_in: float) -> None:
        super().__init__(message)
        self.reason, self.message, self.retry_in = reason, message, retry_in


@dataclass
class ImageBackoff:
    base: float = DEFAULT_BASE
    cap: float = DEFAULT_CAP
    entries: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (delay, until)

    @classmethod
    def from_environment(cls) -> ImageBackoff:
        """The same overrides as the crash-loop backoff (``PODBAY_BACKOFF_BASE``/``_CAP``)."""
        return cls(float(os.environ.get("PODBAY_BACKOFF_BASE", DEFAULT_BASE)),
                   float(os.environ.get("PODBAY_BACKOFF_CAP", DEFAULT_CAP)))

    def failed(self, key: str, now: float) -> float:
        delay, _ = self.entries.get(key, (0.0, 0.0))
        delay = self.base if delay == 0 else min(delay * 2, self.cap)
        self.entries[key] = (delay, now + delay)
        return delay

    def left(self, key: str, now: float) -> float:
        _, until = self.entries.get(key, (0.0, 0.0))
        return max(until - now, 0.0)

    def succeeded(self, key: str) -> None:
        self.entries.pop(key, None)


@dataclass
class ImageManager:
    store: ImageStore
    backoff: ImageBackoff = field(default_factory=ImageBackoff.from_environment)
    pull_lock: threading.Lock = field(default_factory=threading.Lock)  # the kubelet's serial image pulls

    def ensure(self, image: str, policy: str, key: str, event: Event, *,
               secrets: list[tuple[str, dict[str, Any]]] | None = None,
               cancel: threading.Event | None = None) -> ImageRecord:
        """The image's record, pulled if the policy says so; ImageError when the container must wait.
        ``cancel`` set (the pod is being deleted) ends a pull at once, as the kubelet's cancelled context."""
        try:
            local_only = parse(image).domain == "localhost"
        except ReferenceError as err:
            message = f'Failed to apply default image tag "{image}": {err}'
            event("Warning", "InspectFailed", message)
            raise ImageError("InvalidImageName", message, retry_in=self.backoff.cap) from err
        present = self.store.find(image)
        if policy == "Never":
            if present is not None:
                return present
            message = f'Container image "{image}" is not present with pull policy of Never'
            event("Warning", "ErrImageNeverPull", message)
            raise ImageError("ErrImageNeverPull", message, retry_in=self.backoff.cap)
        if present is not None and (policy != "Always" or local_only):
            event("Normal", "Pulled", f'Container image "{image}" already present on machine')
            return present
        if local_only:
            message = (f'Container image "{image}" is not present: localhost/ names images made on this machine, '
                       "which are never pulled (load it with `podbay image load`)")
            event("Warning", "Failed", message)
            raise ImageError("ErrImagePull", message, retry_in=self.backoff.cap)
        key = f"{key}/{image}"
        now = time.monotonic()
        if self.backoff.left(key, now) > 0:
            message = f'Back-off pulling image "{image}"'
            event("Normal", "BackOff", message)
            raise ImageError("ImagePullBackOff", message, retry_in=self.backoff.left(key, now))
        return self._pull(image, key, event, secrets or [], cancel)

    def _pull(self, image: str, key: str, event: Event, secrets: list[tuple[str, dict[str, Any]]],
              cancel: threading.Event | None) -> ImageRecord:
        from podbay.runtime.images.pull import PullError, PullOptions, pull  # noqa: PLC0415
        from podbay.runtime.images.store import ImageStoreError  # noqa: PLC0415

        def stop_if_cancelled() -> None:
            """A cancelled pull failed nothing: no event, no backoff."""
            if cancel is not None and cancel.is_set():
                raise ImageError("ErrImagePull", f'Pulling image "{image}" cancelled', retry_in=1.0)

        event("Normal", "Pulling", f'Pulling image "{image}"')
        asked = time.monotonic()
        while not self.pull_lock.acquire(timeout=0.2):  # another pod's pull first, unless this one is cancelled
            stop_if_cancelled()
        try:
            began = time.monotonic()
            # Layers are unpacked by the launch, for the pod's id mapping.
            record = pull(self.store, image, PullOptions(secrets=secrets, cancel=cancel))
        except (PullError, ImageStoreError) as err:
            stop_if_cancelled()
            message = f'Failed to pull image "{image}": {err}'
            event("Warning", "Failed", message)
            self.backoff.failed(key, time.monotonic())
            # Shown as ErrImagePull until the next attempt, which finds the backoff running.
            raise ImageError("ErrImagePull", message, retry_in=1.0) from err
        finally:
            self.pull_lock.release()
        done = time.monotonic()
        self.backoff.succeeded(key)
        event("Normal", "Pulled", f'Successfully pulled image "{image}" in {done - began:.3g}s '
                                  f"({done - asked:.3g}s including waiting). Image size: {record.size} bytes.")
        return record


def pull_secrets(names: list[Any], secrets: dict[str, dict[str, bytes]],
                 event: Event) -> list[tuple[str, dict[str, Any]]]:
    """A pod's ``imagePullSecrets`` as auths; a missing or unreadable one is a warning, as the kubelet's
    (the pull is still tried, with the auth files)."""
    from podbay.runtime.images import auth  # noqa: PLC0415

    found, missing = [], []
    for entry in names:
        name = str(entry.get("name") or "") if isinstance(entry, dict) else ""
        if name not in secrets:
            missing.append(name or "<no name>")
            continue
        try:
            found.append(auth.from_secret(name, secrets[name]))
        except auth.AuthError as err:
            event("Warning", "FailedToRetrieveImagePullSecret", str(err))
    if missing:
        event("Warning", "FailedToRetrieveImagePullSecret", f"Unable to retrieve some image pull secrets "
              f"({', '.join(missing)}); attempting to pull the image may not succeed.")
    return found
