"""Image references normalised as docker and podman do: ``busybox`` is ``docker.io/library/busybox:latest``."""

from __future__ import annotations

import re

DEFAULT_REGISTRY = "docker.io"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}))?$")


class ReferenceError(ValueError):
    pass


def normalise(reference: str) -> str:
    """The fully qualified form of ``reference`` (tag ``latest`` when neither tag nor digest is given)."""
    match = _REFERENCE.match(reference)
    if not match:
        raise ReferenceError(f"invalid image reference {reference!r}: expected [REGISTRY/]NAME[:TAG][@DIGEST], "
                             "with a lowercase name")
    name, tag, digest = match["name"], match["tag"], match["digest"]
    first, _, rest = name.partition("/")
    # docker's splitDockerDomain: the first component is a registry when it has a dot, a port, is
    # localhost, or has capitals (which a repository path may not).
    if not rest or not ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        name = f"{DEFAULT_REGISTRY}/{name}"
    if name.startswith(f"{DEFAULT_REGISTRY}/") and name.count("/") == 1:
        name = f"{DEFAULT_REGISTRY}/library/{name.split('/', 1)[1]}"
    if digest:
        return f"{name}:{tag}@{digest}" if tag else f"{name}@{digest}"
    return f"{name}:{tag or 'latest'}"


def short(reference: str) -> tuple[str, str]:
    """(repository, tag) for listing: ``docker.io/library/busybox:1.36`` -> ``(docker.io/library/busybox, 1.36)``."""
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:]
    return name, f"@{digest}" if digest else "<none>"
