"""ConfigMap, Secret and PersistentVolumeClaim: the objects pods refer to."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from podbay.runtime.spec.meta import LabelSelector, ObjectMeta
from podbay.runtime.spec.quantity import Quantity
from podbay.runtime.spec.schema import Honour, Opaque, many, opt, table, text


@dataclass(kw_only=True)
class ConfigMap:
    api_version: str = text("v1")
    kind: str = text("ConfigMap")
    metadata: ObjectMeta | None = opt("Name, namespace, labels and annotations.")
    data: dict[str, str] = table("UTF-8 values by key (keys: alphanumerics, '-', '_' or '.').")
    binary_data: dict[str, str] = table("Base64-encoded binary values by key.")
    immutable: bool | None = opt("Refuse updates of data once set.")


@dataclass(kw_only=True)
class Secret:
    api_version: str = text("v1")
    kind: str = text("Secret")
    metadata: ObjectMeta | None = opt("Name, namespace, labels and annotations.")
    data: dict[str, str] = table("Base64-encoded values by key.")
    string_data: dict[str, str] = table("Plain-text values by key, merged over data.")
    type: str = text("Secret type, for example Opaque (the default) or kubernetes.io/tls.")
    immutable: bool | None = opt("Refuse updates of data once set.")

    def values(self) -> dict[str, bytes]:
        """The secret's content: data decoded, with stringData written over it (as the API server does)."""
        out = {key: decode_base64(value) for key, value in self.data.items()}
        out.update({key: value.encode() for key, value in self.string_data.items()})
        return out


def decode_base64(value: str) -> bytes:
    """Standard base64 as Go's encoding/json reads []byte; raises ValueError on bad input."""
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as err:
        raise ValueError(f"illegal base64 data: {err}") from err


@dataclass(kw_only=True)
class VolumeResourceRequirements:
    requests: dict[str, Quantity] = table("storage: the size asked for.")
    limits: dict[str, Quantity] = table("storage: the maximum size.")


_NO_PROVISIONER = "claims are local directories on one node"


@dataclass(kw_only=True)
class PersistentVolumeClaimSpec:
    access_modes: list[str] = many("ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.")
    resources: VolumeResourceRequirements | None = opt("Requested size (informational: local directories "
                                                       "are not size-limited).")
    storage_class_name: str | None = opt("Storage class.", honour=Honour.IGNORED, why=_NO_PROVISIONER)
    volume_mode: str | None = opt("Filesystem (default) or Block.")
    volume_name: str = text("PersistentVolume to bind to.", honour=Honour.IGNORED, why=_NO_PROVISIONER)
    selector: LabelSelector | None = opt("Labels of volumes to bind to.", honour=Honour.IGNORED,
                                         why=_NO_PROVISIONER)
    data_source: Opaque | None = opt("Populate from a snapshot or claim.", honour=Honour.UNSUPPORTED,
                                     why=_NO_PROVISIONER)
    data_source_ref: Opaque | None = opt("Populate from an object.", honour=Honour.UNSUPPORTED,
                                         why=_NO_PROVISIONER)
    volume_attributes_class_name: str | None = opt("Volume attributes class.", honour=Honour.IGNORED,
                                                   why=_NO_PROVISIONER)


@dataclass(kw_only=True)
class PersistentVolumeClaim:
    api_version: str = text("v1")
    kind: str = text("PersistentVolumeClaim")
    metadata: ObjectMeta | None = opt("Name, namespace, labels and annotations.")
    spec: PersistentVolumeClaimSpec | None = opt("What the claim asks for.")
    status: Opaque | None = opt("Observed state.", honour=Honour.OUTPUT, why="podbay reports its own")
