"""The parts of an OCI image config that run a container."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ImageConfig:
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    working_dir: str = ""
    user: str = ""
    stop_signal: str = ""
    architecture: str = ""
    os: str = ""
    diff_ids: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImageConfig:
        config = data.get("config") or {}

        def strings(value: Any) -> list[str]:
            return [str(v) for v in value] if isinstance(value, list) else []

        rootfs = data.get("rootfs") or {}
        return cls(entrypoint=strings(config.get("Entrypoint")), cmd=strings(config.get("Cmd")),
                   env=strings(config.get("Env")), working_dir=str(config.get("WorkingDir") or ""),
                   user=str(config.get("User") or ""), stop_signal=str(config.get("StopSignal") or ""),
                   architecture=str(data.get("architecture") or ""),
                   os=str(data.get("os") or ""), diff_ids=strings(rootfs.get("diff_ids")))
