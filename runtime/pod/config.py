"""Configuration a pod reads from elsewhere: ConfigMaps, Secrets and the downward API.

The messages are the kubelet's (``CreateContainerConfigError``): ``configmap "x" not found``,
``couldn't find key k in ConfigMap default/x``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from podbay.runtime.spec.objects import ConfigMap, Secret, decode_base64
from podbay.runtime.spec.pod import Container, ObjectFieldSelector, Pod, ResourceFieldSelector, meta_of, spec_of
from podbay.runtime.spec.quantity import Quantity


class ConfigError(Exception):
    """CreateContainerConfigError: the container cannot start until the referenced object exists."""


@dataclass
class PodObjects:
    """The ConfigMaps and Secrets a pod may reference, by name (from the same files as the pod)."""

    namespace: str = "default"
    config_maps: dict[str, dict[str, bytes]] = field(default_factory=dict)
    secrets: dict[str, dict[str, bytes]] = field(default_factory=dict)

    @classmethod
    def from_objects(cls, objects: list[Any], namespace: str) -> PodObjects:
        found = cls(namespace)
        for obj in objects:
            meta = getattr(obj, "metadata", None)
            if meta is None or (meta.namespace or "default") != namespace:
                continue
            if isinstance(obj, ConfigMap):
                data = {k: v.encode() for k, v in obj.data.items()}
                data.update({k: decode_base64(v) for k, v in obj.binary_data.items()})
                found.config_maps[meta.name] = data
            elif isinstance(obj, Secret):
                found.secrets[meta.name] = obj.values()
        return found

    def _table(self, kind: str) -> dict[str, dict[str, bytes]]:
        return self.config_maps if kind == "ConfigMap" else self.secrets

    def get(self, kind: str, name: str, optional: bool | None) -> dict[str, bytes] | None:
        """All keys of a ConfigMap or Secret; None when it is missing and optional."""
        table = self._table(kind)
        if name in table:
            return table[name]
        if optional:
            return None
        raise ConfigError(f'{kind.lower()} "{name}" not found')

    def key(self, kind: str, name: str, key: str, optional: bool | None) -> bytes | None:
        values = self.get(kind, name, optional)
        if values is None:
            return None
        if key in values:
            return values[key]
        if optional:
            return None
        raise ConfigError(f"couldn't find key {key} in {kind} {self.namespace}/{name}")


def _quote(value: str) -> str:
    """Go's strconv.Quote for the downward API's labels and annotations files."""
    out = ['"']
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out) + '"'


def field_value(pod: Pod, selector: ObjectFieldSelector, pod_ip: str = "", host_ip: str = "") -> str:
    """A pod field as the downward API gives it (env values and volume files)."""
    meta = meta_of(pod)
    path = selector.field_path
    simple = {"metadata.name": meta.name, "metadata.namespace": meta.namespace or "default",
              "metadata.uid": meta.uid, "spec.nodeName": os.uname().nodename,
              "spec.serviceAccountName": spec_of(pod).service_account_name or "default",
              "status.podIP": pod_ip, "status.podIPs": pod_ip, "status.hostIP": host_ip, "status.hostIPs": host_ip}
    if path in simple:
        return simple[path]
    for prefix, table in (("metadata.labels", meta.labels), ("metadata.annotations", meta.annotations)):
        if path == prefix:
            return "".join(f"{k}={_quote(v)}\n" for k, v in sorted(table.items()))
        if path.startswith(prefix + "['") and path.endswith("']"):
            return table.get(path[len(prefix) + 2:-2], "")
    raise ConfigError(f"unsupported fieldPath: {path}")


def resource_value(pod: Pod, container: Container | None, selector: ResourceFieldSelector) -> str:
    """limits.cpu and friends, rounded up by the divisor as the kubelet does; an unset limit is the node's."""
    if container is None or (selector.container_name and selector.container_name != container.name):
        named = [c for c in spec_of(pod).containers + spec_of(pod).init_containers
                 if c.name == selector.container_name]
        if not named:
            raise ConfigError(f"resourceFieldRef: container {selector.container_name!r} is not in the pod")
        container = named[0]
    kind, _, resource = selector.resource.partition(".")
    table = {}
    if container.resources is not None:
        table = container.resources.limits if kind == "limits" else container.resources.requests
    quantity: Quantity | None = table.get(resource)
    divisor = selector.divisor.value if selector.divisor is not None else Decimal(1)
    if quantity is None:
        if kind == "requests":
            return "0"
        node = {"cpu": Decimal(os.cpu_count() or 1),
                "memory": Decimal(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))}
        if resource not in node:
            return "0"
        amount = node[resource]
    else:
        amount = quantity.value
    if divisor == 0:
        raise ConfigError(f"resourceFieldRef {selector.resource}: divisor is zero")
    return str(max(1, math.ceil(amount / divisor)) if amount else 0)
