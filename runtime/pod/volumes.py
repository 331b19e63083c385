"""A pod's volumes: where each one lives on the host, and what the sandbox must mount and write.

- emptyDir: a folder in the pod's folder (mode 0777, as the kubelet makes it); ``medium:
  Memory`` is one tmpfs for the whole pod, sized by ``sizeLimit``.
- configMap, secret, downwardAPI, projected: a tmpfs in the pod's mount namespace, filled by
  the sandbox with the keys as files (modes from ``defaultMode``/``mode``, default 0644; the
  group is ``fsGroup`` when set).
- hostPath: the host's path, after the ``type`` check the kubelet makes.
- persistentVolumeClaim: a named local volume, ``<data>/volumes/<claim>/_data``, created on
  first use and kept after the pod (as podman does for claims).

Every tmpfs is mounted inside the pod's own mount namespace, never in the host's.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podbay.runtime.idmap import IdMapping
from podbay.runtime.pod.config import ConfigError, PodObjects, field_value, resource_value
from podbay.runtime.spec.pod import KeyToPath, Pod, Volume, spec_of

DEFAULT_MODE = 0o644
_HOST_TYPES = {"Socket": (stat.S_ISSOCK, "socket"), "CharDevice": (stat.S_ISCHR, "character device"),
               "BlockDevice": (stat.S_ISBLK, "block device"), "Directory": (stat.S_ISDIR, "directory"),
               "File": (stat.S_ISREG, "file")}


class VolumeError(Exception):
    pass


@dataclass
class PodVolumes:
    sources: dict[str, str] = field(default_factory=dict)  # volume name -> host path to bind
    tmpfs: list[dict[str, Any]] = field(default_factory=list)  # for the sandbox to mount and fill


def _mode(default_mode: int | None) -> int:
    return DEFAULT_MODE if default_mode is None else default_mode


def _keyed_files(objects: PodObjects, kind: str, name: str, items: list[KeyToPath], *, optional: bool | None,
                 mode: int, gid: int) -> list[dict[str, Any]]:
    """The keys of a ConfigMap or Secret as files: all of them, or the listed ``items`` under their paths."""
    values = objects.get(kind, name, optional)
    if values is None:
        return []
    if not items:
        return [{"path": key, "data": value.hex(), "mode": mode, "gid": gid} for key, value in sorted(values.items())]
    out = []
    for item in items:
        value = objects.key(kind, name, item.key, optional)
        if value is not None:
            out.append({"path": item.path, "data": value.hex(),
                        "mode": item.mode if item.mode is not None else mode, "gid": gid})
    return out


def _projected_files(pod: Pod, volume: Volume, objects: PodObjects, gid: int) -> list[dict[str, Any]]:
    """configMap, secret, downwardAPI and projected volumes: one list of files, one code path each source."""
    if volume.config_map is not None:
        cm = volume.config_map
        return _keyed_files(objects, "ConfigMap", cm.name, cm.items, optional=cm.optional,
                            mode=_mode(cm.default_mode), gid=gid)
    if volume.secret is not None:
        sec = volume.secret
        return _keyed_files(objects, "Secret", sec.secret_name, sec.items, optional=sec.optional,
                            mode=_mode(sec.default_mode), gid=gid)
    if volume.downward_api is not None:
        return _downward(pod, volume.downward_api.items, _mode(volume.downward_api.default_mode), gid)
    files: list[dict[str, Any]] = []
    if volume.projected is not None:
        mode = _mode(volume.projected.default_mode)
        for projection in volume.projected.sources:
            if projection.config_map is not None:
                pcm = projection.config_map
                files += _keyed_files(objects, "ConfigMap", pcm.name, pcm.items, optional=pcm.optional,
                                      mode=mode, gid=gid)
            elif projection.secret is not None:
                psec = projection.secret
                files += _keyed_files(objects, "Secret", psec.name, psec.items, optional=psec.optional,
                                      mode=mode, gid=gid)
            elif projection.downward_api is not None:
                files += _downward(pod, projection.downward_api.items, mode, gid)
    return files


def _downward(pod: Pod, items: list[Any], mode: int, gid: int) -> list[dict[str, Any]]:
    out = []
    for item in items:
        if item.field_ref is not None:
            value = field_value(pod, item.field_ref)
        elif item.resource_field_ref is not None:
            value = resource_value(pod, None, item.resource_field_ref)
        else:
            continue
        out.append({"path": item.path, "data": value.encode().hex(),
                    "mode": item.mode if item.mode is not None else mode, "gid": gid})
    return out


def check_host_path(path: str, kind: str | None) -> None:
    """The kubelet's hostPath type checks (DirectoryOrCreate and FileOrCreate create what is missing)."""
    if not kind:
        return
    if kind == "DirectoryOrCreate":
        os.makedirs(path, mode=0o755, exist_ok=True)
        kind = "Directory"
    elif kind == "FileOrCreate":
        if not os.path.exists(path):
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                raise VolumeError(f"hostPath type check failed: {parent} is not a directory")
            with open(path, "a"):
                pass
            os.chmod(path, 0o644)
        kind = "File"
    test, noun = _HOST_TYPES.get(kind, (None, ""))
    if test is None:
        raise VolumeError(f"hostPath type {kind!r} is not one of {', '.join(_HOST_TYPES)}, DirectoryOrCreate, "
                          "FileOrCreate")
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise VolumeError(f"hostPath type check failed: {path} is not a {noun} ({err.strerror})") from err
    if not test(mode):
        raise VolumeError(f"hostPath type check failed: {path} is not a {noun}")


def prepare(pod: Pod, pod_dir: Path, claims_dir: Path, objects: PodObjects, mapping: IdMapping) -> PodVolumes:
    """Create every volume's host side; raises VolumeError/ConfigError naming the volume."""
    out = PodVolumes()
    psc = spec_of(pod).security_context
    fs_group = psc.fs_group if psc and psc.fs_group is not None else 0
    root_uid, root_gid = mapping.to_host(0), mapping.to_host(0, group=True)
    for volume in spec_of(pod).volumes:
        where = pod_dir / "volumes" / volume.name
        try:
            if volume.empty_dir is not None:
                where.mkdir(parents=True)
                mode = volume.empty_dir.mode if volume.empty_dir.mode is not None else 0o777
                if volume.empty_dir.medium == "Memory":
                    size = volume.empty_dir.size_limit.int_value() if volume.empty_dir.size_limit else None
                    out.tmpfs.append({"name": volume.name, "path": str(where), "mode": mode, "size": size})
                else:
                    where.chmod(mode)
                    if os.geteuid() == 0 and not mapping.identity:
                        os.chown(where, root_uid, root_gid)
            elif volume.host_path is not None:
                check_host_path(volume.host_path.path, volume.host_path.type)
                out.sources[volume.name] = volume.host_path.path
                continue
            elif volume.persistent_volume_claim is not None:
                claim = claims_dir / volume.persistent_volume_claim.claim_name / "_data"
                if not claim.is_dir():
                    claim.mkdir(parents=True, mode=0o755)
                    if os.geteuid() == 0 and not mapping.identity:
                        os.chown(claim, root_uid, root_gid)
                out.sources[volume.name] = str(claim)
                continue
            elif (volume.config_map or volume.secret or volume.downward_api or volume.projected) is not None:
                where.mkdir(parents=True)
                files = _projected_files(pod, volume, objects, fs_group)
                out.tmpfs.append({"name": volume.name, "path": str(where), "mode": 0o755, "files": files})
            elif volume.image is not None:
                raise VolumeError("image volumes are not supported yet")
            else:
                raise VolumeError("this volume type is not supported by podbay")
        except (ConfigError, VolumeError, OSError) as err:
            raise VolumeError(f'volume "{volume.name}": {err}') from err
        out.sources[volume.name] = str(where)
    return out
