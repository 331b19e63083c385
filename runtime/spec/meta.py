"""Object metadata and label selectors, shared by every kind."""

from __future__ import annotations

from dataclasses import dataclass

from podbay.runtime.spec.schema import Honour, Opaque, many, opt, table, text

_SET_BY_SERVER = "the API server sets it; podbay keeps its own"


@dataclass(kw_only=True)
class ObjectMeta:
    name: str = text("Name of the object, unique per kind within its namespace (a DNS-1123 subdomain).")
    generate_name: str = text("Prefix for a generated name when name is empty; podbay appends 5 random characters.")
    namespace: str = text("Namespace of the object; podbay keeps namespaces as a name prefix (default: default).")
    labels: dict[str, str] = table("Key/value pairs for selecting and grouping objects (selectors, `-l`).")
    annotations: dict[str, str] = table("Free-form key/value metadata for tools; not used for selection.")
    uid: str = text("Unique id of the object; podbay generates one when the object is loaded.", key="uid")
    resource_version: str = text("Version of the object in the API server.", honour=Honour.OUTPUT, why=_SET_BY_SERVER)
    generation: int | None = opt("Sequence number of the desired state.", honour=Honour.OUTPUT,
                                 why=_SET_BY_SERVER)
    creation_timestamp: Opaque | None = opt("When the object was created.", honour=Honour.OUTPUT, why=_SET_BY_SERVER)
    deletion_timestamp: Opaque | None = opt("When the object will be deleted.", honour=Honour.OUTPUT,
                                            why=_SET_BY_SERVER)
    deletion_grace_period_seconds: int | None = opt("Grace period of a pending deletion.", honour=Honour.OUTPUT,
                                                    why=_SET_BY_SERVER)
    self_link: str = text("Deprecated URL of the object.", honour=Honour.OUTPUT, why=_SET_BY_SERVER)
    managed_fields: list[Opaque] = many("Server-side apply bookkeeping.", honour=Honour.OUTPUT, why=_SET_BY_SERVER)
    owner_references: list[Opaque] = many("Objects this object depends on; podbay's controllers set their own.",
                                          honour=Honour.OUTPUT, why="podbay's controllers set owner references")
    finalizers: list[str] = many("Conditions that must clear before deletion.", honour=Honour.IGNORED,
                                 why="no controller on one node removes them")


@dataclass(kw_only=True)
class LabelSelectorRequirement:
    key: str = text("The label key the requirement applies to.")
    operator: str = text("In, NotIn, Exists or DoesNotExist.")
    values: list[str] = many("Values for In and NotIn; must be empty for Exists and DoesNotExist.")


@dataclass(kw_only=True)
class LabelSelector:
    match_labels: dict[str, str] = table("Labels that must all be present with these values.")
    match_expressions: list[LabelSelectorRequirement] = many("Requirements that must all hold.")

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether a label set satisfies this selector (an empty selector matches everything)."""
        for key, value in self.match_labels.items():
            if labels.get(key) != value:
                return False
        for req in self.match_expressions:
            present = req.key in labels
            if req.operator == "In" and (not present or labels[req.key] not in req.values):
                return False
            if req.operator == "NotIn" and present and labels[req.key] in req.values:
                return False
            if req.operator == "Exists" and not present:
                return False
            if req.operator == "DoesNotExist" and present:
                return False
        return True
