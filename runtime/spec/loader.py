"""Read Kubernetes YAML or JSON from files, folders and stdin into validated, defaulted model objects.

The pipeline per document is the API server's: parse -> decode strictly ->
default -> validate. Every document yields a :class:`Document` carrying its
source (file, position, line), its object or its errors, and its warnings, so
that nothing is dropped silently. Loading never raises for bad input.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import yaml

from podbay.runtime.spec.defaults import default_object
from podbay.runtime.spec.errors import ErrorType, FieldError, FieldWarning, Key, Path
from podbay.runtime.spec.kinds import KINDS, SKIPPED_KINDS, api_group
from podbay.runtime.spec.schema import DecodeContext, decode
from podbay.runtime.spec.validate_objects import validate

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# YAML aliases can make a small file expand enormously ("billion laughs"); a real
# manifest has a few hundred nodes.
MAX_NODES = 200_000
STDIN = "-"

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Source:
    """Where a document came from: file, 1-based document number and first line, List item."""

    file: str
    document: int = 0
    line: int = 0
    item: int | None = None

    def __str__(self) -> str:
        if not self.document:
            return self.file
        text = f"{self.file}: document {self.document}"
        if self.item is not None:
            text += f", items[{self.item}]"
        return text


@dataclass
class Document:
    """One object (or one failed attempt at one) from the input."""

    source: Source
    api_version: str = ""
    kind: str = ""
    name: str = ""
    obj: Any = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldWarning] = field(default_factory=list)
    skipped: bool = False
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    def line_of(self, path: Path) -> int:
        """The YAML line of a field (or of its nearest ancestor present in the file)."""
        plain = _plain(path)
        while plain:
            if plain in self.lines:
                return self.lines[plain]
            plain = plain[:-1]
        return self.source.line

    def title(self) -> str:
        if self.kind and self.name:
            return f'{self.kind} "{self.name}"'
        return self.kind or "document"


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(doc.ok for doc in self.documents)

    def objects(self) -> list[Any]:
        return [doc.obj for doc in self.documents if doc.ok and doc.obj is not None]


def load_paths(paths: Sequence[str], stdin: IO[str] | None = None, recursive: bool = False) -> LoadResult:
    """Load every manifest named by ``paths`` (files, folders, or ``-`` for stdin)."""
    result = LoadResult()
    for path in paths:
        for name, text_or_error in _read_sources(path, stdin, recursive):
            if isinstance(text_or_error, FieldError):
                result.documents.append(Document(Source(name), errors=[text_or_error]))
            else:
                result.documents.extend(load_text(text_or_error, name))
    return result


def _read_sources(path: str, stdin: IO[str] | None, recursive: bool) -> Iterator[tuple[str, str | FieldError]]:
    if path == STDIN:
        stream = stdin if stdin is not None else sys.stdin
        try:
            yield "<stdin>", stream.read()
        except UnicodeDecodeError as err:
            yield "<stdin>", _document_error(f"not UTF-8 text: {err.reason} at byte {err.start}")
        return
    if os.path.isdir(path):
        found = False
        for name in _manifests_in(path, recursive):
            found = True
            yield from _read_sources(name, stdin, recursive)
        if not found:
            yield path, _document_error(f"no {', '.join(MANIFEST_SUFFIXES)} files in this folder")
        return
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        yield path, _document_error("no such file or directory")
        return
    except OSError as err:
        yield path, _document_error(f"cannot read: {err.strerror}")
        return
    try:
        yield path, data.decode("utf-8")
    except UnicodeDecodeError as err:
        yield path, _document_error(f"not UTF-8 text: {err.reason} at byte {err.start}")


def _manifests_in(folder: str, recursive: bool) -> Iterator[str]:
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_dir():
            if recursive:
                yield from _manifests_in(entry.path, recursive)
        elif entry.name.endswith(MANIFEST_SUFFIXES) and not entry.name.startswith("."):
            yield entry.path


def _document_error(message: str) -> FieldError:
    return FieldError((), ErrorType.DOCUMENT, detail=message)


def load_text(text: str, file: str = "<string>") -> list[Document]:
    """Load every document of one YAML/JSON stream."""
    documents: list[Document] = []
    loader = _Loader(text)
    number = 0
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
            except yaml.YAMLError as err:
                if number == 0 and (from_json := _load_json(text, file)) is not None:
                    return from_json
                line = _error_line(err)
                documents.append(Document(Source(file, number + 1, line),
                                          errors=[_document_error(f"invalid YAML: {_yaml_problem(err)}")]))
                break
            number += 1
            if node is None:
                continue
            source = Source(file, number, node.start_mark.line + 1)
            documents.extend(_load_node(loader, node, source))
    finally:
        loader.dispose()
    return documents


def _load_json(text: str, file: str) -> list[Document] | None:
    """Valid JSON that libyaml refuses (JSON's surrogate-pair escapes such as "\\ud83d\\ude00"): read as JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return _load_data(data, Source(file, 1, 1), {})


def _load_node(loader: yaml.SafeLoader, node: yaml.Node, source: Source) -> list[Document]:
    lines: dict[tuple[str | int, ...], int] = {}
    problems: list[FieldError] = []
    if _walk(node, (), lines, problems, [MAX_NODES]) is False:
        return [Document(source, errors=[_document_error(
            f"too large: YAML aliases expand it beyond {MAX_NODES} nodes")])]
    try:
        data = loader.construct_document(node)
    except yaml.YAMLError as err:
        return [Document(source, errors=[_document_error(f"invalid YAML: {_yaml_problem(err)}")])]
    if data is None:
        return []
    if problems:
        return [Document(source, errors=problems, lines=lines)]
    return _load_data(data, source, lines)


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int],
          problems: list[FieldError], budget: list[int]) -> bool:
    """Record each field's line and find duplicate keys; False when aliases blow the node budget."""
    budget[0] -= 1
    if budget[0] < 0:
        return False
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            child = path + (key,) if isinstance(key, str) else path
            if isinstance(key, str) and key != "<<":
                if key in seen:
                    problems.append(FieldError(child, ErrorType.DOCUMENT,
                                               detail=f"duplicate field {key!r} (first at line {seen[key]})"))
                seen[key] = key_node.start_mark.line + 1
            if not _walk(value_node, child, lines, problems, budget):
                return False
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            if not _walk(item, path + (index,), lines, problems, budget):
                return False
    return True


def _error_line(err: yaml.YAMLError) -> int:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    return mark.line + 1 if mark is not None else 0


def _yaml_problem(err: yaml.YAMLError) -> str:
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    mark = getattr(err, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    context = getattr(err, "context", None)
    return (f"{context}: " if context else "") + f"{problem}{where}"


def _shift_lines(lines: dict[tuple[str | int, ...], int], prefix: tuple[str | int, ...]) -> dict[
        tuple[str | int, ...], int]:
    return {path[len(prefix):]: line for path, line in lines.items() if path[:len(prefix)] == prefix}


def _load_data(data: Any, source: Source, lines: dict[tuple[str | int, ...], int]) -> list[Document]:
    doc = Document(source, lines=lines)
    if not isinstance(data, dict):
        doc.errors.append(_document_error(
            f"not a Kubernetes object: expected a mapping with apiVersion and kind, got {type(data).__name__}"))
        return [doc]
    api_version, kind = data.get("apiVersion"), data.get("kind")
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
        doc.name = metadata["name"]
    for key, value in (("apiVersion", api_version), ("kind", kind)):
        if not isinstance(value, str) or not value:
            doc.errors.append(FieldError((key,), ErrorType.REQUIRED,
                                         detail="not a Kubernetes object: every object needs apiVersion and kind"))
    if doc.errors:
        return [doc]
    assert isinstance(api_version, str) and isinstance(kind, str)
    doc.api_version, doc.kind = api_version, kind
    if kind == "List" and api_version == "v1":
        return _load_list(data, source, lines)
    cls = KINDS.get((api_version, kind))
    if cls is not None:
        _build(cls, data, doc)
    elif kind in SKIPPED_KINDS and api_group(api_version) in SKIPPED_KINDS[kind]:
        doc.skipped = True
        doc.warnings.append(FieldWarning((), f"{doc.title()} ({api_version}) is skipped: podbay does not run "
                                             f"{kind} objects"))
    elif any(k == kind for _, k in KINDS):
        expected = next(v for v, k in KINDS if k == kind)
        doc.errors.append(FieldError(("apiVersion",), ErrorType.DOCUMENT, detail=(
            f'no matches for kind "{kind}" in version "{api_version}" (podbay reads {kind} as {expected})')))
    else:
        doc.errors.append(FieldError(("kind",), ErrorType.DOCUMENT, detail=(
            f'unknown kind "{kind}" in apiVersion "{api_version}": not a Kubernetes object that podbay knows')))
    return [doc]


def _load_list(data: dict[str, Any], source: Source, lines: dict[tuple[str | int, ...], int]) -> list[Document]:
    items = data.get("items")
    if items is None:
        return []
    if not isinstance(items, list):
        return [Document(source, "v1", "List", lines=lines,
                         errors=[FieldError(("items",), ErrorType.TYPE, detail="expected a list")])]
    out: list[Document] = []
    for index, item in enumerate(items):
        item_lines = _shift_lines(lines, ("items", index))
        item_source = Source(source.file, source.document, item_lines.get((), source.line), index)
        out.extend(_load_data(item, item_source, item_lines))
    return out


def _plain(path: Path) -> tuple[str | int, ...]:
    return tuple(str(p) if isinstance(p, Key) else p for p in path)


def _under(path: tuple[str | int, ...], roots: list[tuple[str | int, ...]]) -> bool:
    return any(path[:len(root)] == root for root in roots)


def _build(cls: type, data: dict[str, Any], doc: Document) -> None:
    """Decode, default and validate one object into ``doc``."""
    ctx = DecodeContext()
    obj: Any = decode(cls, data, (), ctx)
    doc.warnings.extend(ctx.warnings)
    doc.errors.extend(ctx.errors)
    # Fields that failed to decode hold zero values; validate the rest anyway so that
    # every error is reported at once, but say nothing more about the broken fields.
    broken = [_plain(e.path) for e in ctx.errors]
    default_object(obj)
    report = validate(obj)
    doc.errors.extend(e for e in report.errors if not _under(_plain(e.path), broken))
    doc.warnings.extend(report.warnings)
    if not doc.errors:
        doc.obj = obj
        doc.name = obj.metadata.name or doc.name
