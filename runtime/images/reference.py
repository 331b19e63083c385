"""Image references normalised as docker and podman do: ``busybox`` is ``docker.io/library/busybox:latest``.

The grammar is the distribution project's (``reference/regexp.go``): ``[DOMAIN/]PATH[:TAG][@DIGEST]``,
lowercase path components, a tag of at most 128 word characters, dots and dashes. The first component is
a registry when it has a dot or a port, is ``localhost``, or has capitals (``splitDockerDomain``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}))?$")
_SHA256 = re.compile(r"^sha256:[a-f0-9]{64}$")


class ReferenceError(ValueError):
    pass


@dataclass(frozen=True)
class Reference:
    """A parsed reference: ``domain`` empty when the text named none (a short name)."""

    domain: str
    path: str
    tag: str = ""
    digest: str = ""

    @property
    def repository(self) -> str:
        """``domain/path``: the name without tag or digest."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def short_name(self) -> bool:
        return not self.domain

    @property
    def identifier(self) -> str:
        """What the registry is asked for: the digest when pinned, else the tag (``latest`` by default)."""
        return self.digest or self.tag or "latest"

    def qualified(self, domain: str = DEFAULT_REGISTRY) -> Reference:
        """In ``domain`` when it has none; docker.io's one-component names are under ``library/``."""
        chosen = self.domain or domain
        path = f"library/{self.path}" if chosen == DEFAULT_REGISTRY and "/" not in self.path else self.path
        return Reference(chosen, path, self.tag, self.digest)

    def with_tag(self) -> Reference:
        """Tag ``latest`` when neither tag nor digest was given (a digest alone pins)."""
        return self if self.tag or self.digest else Reference(self.domain, self.path, "latest")

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        return f"{text}@{self.digest}" if self.digest else text


def parse(reference: str) -> Reference:
    """Parse without qualifying; a clear error names what is malformed."""
    match = _REFERENCE.match(reference)
    if not match:
        raise ReferenceError(f"invalid image reference {reference!r}: {_why(reference)}")
    name, tag, digest = match["name"], match["tag"] or "", match["digest"] or ""
    if digest and not _SHA256.match(digest):
        raise ReferenceError(f"invalid image reference {reference!r}: unsupported digest {digest!r} "
                             "(expected sha256: and 64 lowercase hex digits)")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        return Reference(first, rest, tag, digest)
    if name.lower() != name:
        raise ReferenceError(f"invalid image reference {reference!r}: repository names must be lowercase")
    return Reference("", name, tag, digest)


def _why(reference: str) -> str:
    if not reference:
        return "it is empty"
    if reference != reference.strip():
        return "it has leading or trailing spaces"
    name = reference.split("@", 1)[0]
    if "@" in reference:
        return "the digest must be sha256: followed by 64 hex digits"
    if name.rsplit("/", 1)[-1].count(":") > 1:
        return "it has more than one tag"
    if ":" in name.rsplit("/", 1)[-1] and not re.fullmatch(r"[\w][\w.-]{0,127}", name.rsplit(":", 1)[1]):
        return "the tag may hold only letters, digits, _ . and - (at most 128, not starting with . or -)"
    if any(c.isupper() for c in name.split("/", 1)[-1]):
        return "repository names must be lowercase"
    return "expected [REGISTRY[:PORT]/]NAME[:TAG][@sha256:DIGEST]"


def normalise(reference: str) -> str:
    """The fully qualified form of ``reference`` (tag ``latest`` when neither tag nor digest is given)."""
    return str(parse(reference).qualified().with_tag())


def short(reference: str) -> tuple[str, str]:
    """(repository, tag) for listing: ``docker.io/library/busybox:1.36`` -> ``(docker.io/library/busybox, 1.36)``."""
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:]
    return name, f"@{digest}" if digest else "<none>"
