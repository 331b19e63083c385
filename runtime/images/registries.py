"""Which registries a short name means, and how to reach each: the ``registries.conf`` files podman reads.

Read (TOML, version 2 of the format): ``$CONTAINERS_REGISTRIES_CONF`` when set, else
``$XDG_CONFIG_HOME/containers/registries.conf`` when it exists, else ``/etc/containers/registries.conf``;
then the drop-ins ``*.conf`` of the folder beside it named ``registries.conf.d`` (sorted, later wins).

- ``unqualified-search-registries = ["docker.io", ...]``: where a short name is tried, in order
  (default: docker.io only, docker's rule).
- ``[aliases] "name" = "registry/path"``: a short name's one meaning (Debian ships ``shortnames.conf``).
- ``[[registry]] prefix|location = "host[:port][/path]"``, ``insecure = true`` (plain http and unverified
  TLS allowed), ``blocked = true`` (never pulled from).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podbay.runtime.images.reference import DEFAULT_REGISTRY, Reference, ReferenceError, parse


class RegistriesError(Exception):
    pass


@dataclass
class RegistryRule:
    prefix: str
    insecure: bool = False
    blocked: bool = False


@dataclass
class Registries:
    search: list[str] = field(default_factory=lambda: [DEFAULT_REGISTRY])
    aliases: dict[str, str] = field(default_factory=dict)
    rules: list[RegistryRule] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def candidates(self, reference: str | Reference) -> list[Reference]:
        """The fully qualified references a (possibly short) reference may mean, in the order to try."""
        ref = parse(reference) if isinstance(reference, str) else reference
        if not ref.short_name:
            return [ref.qualified().with_tag()]
        alias = self.aliases.get(ref.path) or self.aliases.get(ref.path.removeprefix("library/"))
        if alias:
            target = parse(alias)
            return [Reference(target.domain, target.path, ref.tag or target.tag, ref.digest).qualified().with_tag()]
        return [ref.qualified(domain).with_tag() for domain in self.search]

    def rule(self, reference: Reference) -> RegistryRule:
        """The most specific ``[[registry]]`` entry for this repository (none: the defaults)."""
        name = reference.repository
        best = RegistryRule("")
        for rule in self.rules:
            if (name == rule.prefix or name.startswith(rule.prefix + "/")) and len(rule.prefix) >= len(best.prefix):
                best = rule
        return best


def _main_file() -> Path:
    chosen = os.environ.get("CONTAINERS_REGISTRIES_CONF")
    if chosen:
        return Path(chosen)
    user = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "containers" / "registries.conf"
    return user if user.is_file() else Path("/etc/containers/registries.conf")


def load(main: Path | None = None) -> Registries:
    main = main or _main_file()
    files = [main] if main.is_file() else []
    dropins = main.parent / "registries.conf.d"
    if dropins.is_dir():
        files += sorted(dropins.glob("*.conf"))
    registries = Registries(files=files)
    for path in files:
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise RegistriesError(f"{path}: {err}") from err
        _apply(registries, data, path)
    return registries


def _apply(registries: Registries, data: dict[str, Any], path: Path) -> None:
    search = data.get("unqualified-search-registries")
    if search is not None:
        if not isinstance(search, list) or not all(isinstance(s, str) for s in search):
            raise RegistriesError(f"{path}: unqualified-search-registries must be a list of registry names")
        registries.search = list(search)
    aliases = data.get("aliases") or {}
    if not isinstance(aliases, dict):
        raise RegistriesError(f"{path}: [aliases] must be a table of short name = \"registry/path\"")
    for short, target in aliases.items():
        try:
            if not isinstance(target, str) or parse(target).short_name:
                raise ReferenceError("not fully qualified")
        except ReferenceError as err:
            raise RegistriesError(f"{path}: aliases.{short}: {target!r} is not a fully qualified image "
                                  f"name ({err})") from err
        registries.aliases[short] = target
    for index, entry in enumerate(data.get("registry") or []):
        prefix = entry.get("prefix") or entry.get("location") if isinstance(entry, dict) else None
        if not isinstance(prefix, str) or not prefix:
            raise RegistriesError(f"{path}: registry[{index}]: needs a location or a prefix")
        registries.rules.append(RegistryRule(prefix.removesuffix("/"), bool(entry.get("insecure", False)),
                                             bool(entry.get("blocked", False))))
