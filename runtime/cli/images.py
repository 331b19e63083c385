"""The image commands: ``pull``, ``images``, ``image inspect|rm|prune|save|load|tag``, ``tag``, ``rmi``,
``login`` and ``logout``, with podman's flags and outputs where they have them."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from pathlib import Path
from typing import Any

from podbay.runtime.cli.progress import human
from podbay.runtime.images.reference import short
from podbay.runtime.images.store import ImageRecord, ImageStore, ImageStoreError
from podbay.runtime.paths import Paths


def _age(seconds: float) -> str:
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= length:
            count = int(seconds // length)
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "Less than a minute ago" if seconds >= 1 else "Now"


def _error(text: object) -> int:
    print(f"error: {text}", file=sys.stderr)
    return 125


def add_parsers(commands: Any) -> None:
    pull = commands.add_parser("pull", help="pull an image from a registry")
    _pull_flags(pull)
    pull.add_argument("reference", metavar="IMAGE")
    for name in ("images", "rmi", "tag", "login", "logout"):
        _COMMANDS[name](commands.add_parser(name, help=_HELP[name]))
    image = commands.add_parser("image", help="manage images")
    sub = image.add_subparsers(dest="image_command", metavar="COMMAND")
    _COMMANDS["images"](sub.add_parser("ls", help=_HELP["images"]))
    _COMMANDS["rmi"](sub.add_parser("rm", help=_HELP["rmi"]))
    _COMMANDS["tag"](sub.add_parser("tag", help=_HELP["tag"]))
    pull_sub = sub.add_parser("pull", help="pull an image from a registry")
    _pull_flags(pull_sub)
    pull_sub.add_argument("reference", metavar="IMAGE")
    inspect = sub.add_parser("inspect", help="show images' records as JSON")
    inspect.add_argument("images", nargs="+", metavar="IMAGE")
    prune = sub.add_parser("prune", help="remove unnamed images (-a: every image no pod uses)")
    prune.add_argument("-a", "--all", action="store_true", help="also named images that no pod uses")
    prune.add_argument("-f", "--force", action="store_true", help="do not ask (podbay never asks)")
    save = sub.add_parser("save", help="write images to an OCI archive")
    save.add_argument("-o", "--output", required=True, metavar="FILE", help="the archive to write")
    save.add_argument("images", nargs="+", metavar="IMAGE")
    load = sub.add_parser("load", help="import an OCI image layout (folder or tar) or a docker save tar")
    load.add_argument("-i", "--input", dest="archive", metavar="FILE", help="the archive (or give it as argument)")
    load.add_argument("file", nargs="?", metavar="FILE", help="the archive")
    load.add_argument("-t", "--tag", action="append", default=[], metavar="NAME", help="also name the image NAME")


def _pull_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tls-verify", default="true", choices=("true", "false"), metavar="BOOL",
                        help="verify the registry's TLS certificate (false also allows plain http)")
    parser.add_argument("--authfile", default="", metavar="FILE", help="credentials file to use")
    parser.add_argument("--platform", default="", metavar="OS/ARCH[/VARIANT]", help="the platform to pull")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the image id")


def _images_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="print image ids only")
    parser.add_argument("--digests", action="store_true", help="show each image's manifest digest")
    parser.add_argument("--no-trunc", action="store_true", help="show full image ids")


def _rmi_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--force", action="store_true", help="also an image pods use: it is untagged, and "
                        "its files stay until no pod uses them")
    parser.add_argument("images", nargs="+", metavar="IMAGE")


def _tag_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="IMAGE")
    parser.add_argument("targets", nargs="+", metavar="NAME")


def _login_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("registry", metavar="REGISTRY")
    parser.add_argument("-u", "--username", default="")
    parser.add_argument("-p", "--password", default="", help="prefer --password-stdin: argv is visible to all")
    parser.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    parser.add_argument("--authfile", default="", metavar="FILE", help="credentials file to write")
    parser.add_argument("--tls-verify", default="true", choices=("true", "false"), metavar="BOOL")
    parser.add_argument("--get-login", action="store_true", help="print the user logged in to REGISTRY")


def _logout_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("registry", nargs="?", default="", metavar="REGISTRY")
    parser.add_argument("-a", "--all", action="store_true", help="forget every registry's credentials")
    parser.add_argument("--authfile", default="", metavar="FILE")


_COMMANDS = {"images": _images_flags, "rmi": _rmi_flags, "tag": _tag_flags, "login": _login_flags,
             "logout": _logout_flags}
_HELP = {"images": "list local images", "rmi": "remove images", "tag": "give an image more names",
         "login": "store credentials for a registry", "logout": "forget credentials for a registry"}


def dispatch(paths: Paths, args: argparse.Namespace) -> int | None:
    """Run the image command ``args`` names; None when it is not one."""
    command = args.command if args.command != "image" else {"ls": "images", "rm": "rmi"}.get(
        args.image_command, args.image_command)
    handlers = {"pull": _pull, "images": _images, "rmi": _rmi, "tag": _tag, "login": _login, "logout": _logout,
                "inspect": _inspect, "prune": _prune, "save": _save, "load": _load}
    handler = handlers.get(command or "")
    if handler is None or (command == "inspect" and args.command != "image"):
        return None
    return handler(paths, args)


# --- pull ------------------------------------------------------------------------------------


def _pull(paths: Paths, args: argparse.Namespace) -> int:
    from podbay.runtime.cli.progress import for_terminal  # noqa: PLC0415
    from podbay.runtime.images.pull import PullError, PullOptions, pull  # noqa: PLC0415

    store = ImageStore(paths.images)
    progress = None if args.quiet else for_terminal()
    try:
        record = pull(store, args.reference, PullOptions(tls_verify=args.tls_verify == "true", authfile=args.authfile,
                                                         platform=args.platform, progress=progress))
        if progress:
            progress.finish()
        _unpack(store, record)
    except (PullError, ImageStoreError) as err:
        return _error(err)
    print(record.id)
    return 0


def _unpack(store: ImageStore, record: ImageRecord) -> None:
    """Unpack now for the default mapping, so the first run is fast."""
    from podbay.runtime.idmap import default_mapping  # noqa: PLC0415

    mapping = default_mapping()
    with store.locked():
        store.ensure_layers(record, mapping)
    for warning in store.warnings + ([mapping.warning] if mapping.warning else []):
        print(f"Warning: {warning}", file=sys.stderr)


# --- listing and inspecting ------------------------------------------------------------------


def images_command(paths: Paths, quiet: bool = False, digests: bool = False, full: bool = False) -> int:
    records = ImageStore(paths.images).records()
    if quiet:
        for record in records:
            print(record.id if full else record.id[:12])
        return 0
    header = ["REPOSITORY", "TAG"] + (["DIGEST"] if digests else []) + ["IMAGE ID", "CREATED", "SIZE"]
    rows = [header]
    for record in records:
        for name in record.names or ["<none>:<none>"]:
            repository, tag = short(name) if name != "<none>:<none>" else (_repository(record), "<none>")
            row = [repository, tag] + ([record.digest or "<none>"] if digests else [])
            created = _created(record)
            rows.append(row + [record.id if full else record.id[:12],
                               _age(time.time() - created) if created else "<unknown>", human(record.size)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _repository(record: ImageRecord) -> str:
    return record.repo_digests[0].split("@", 1)[0] if record.repo_digests else "<none>"


def _created(record: ImageRecord) -> float:
    """The image's creation time from its config (docker and podman show that), else when it was stored."""
    from datetime import datetime  # noqa: PLC0415

    try:
        return datetime.fromisoformat(record.created.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return record.loaded


def _images(paths: Paths, args: argparse.Namespace) -> int:
    return images_command(paths, quiet=args.quiet, digests=args.digests, full=args.no_trunc)


def _find_all(store: ImageStore, names: list[str]) -> tuple[list[ImageRecord], list[str]]:
    found, missing = [], []
    for name in names:
        record = store.find(name)
        if record is None:
            missing.append(name)
        else:
            found.append(record)
    return found, missing


def _inspect(paths: Paths, args: argparse.Namespace) -> int:
    store = ImageStore(paths.images)
    records, missing = _find_all(store, args.images)
    out = [inspect_image(record) for record in records]
    print(json.dumps(out, indent=4))
    for name in missing:
        print(f"error: {name}: image not known", file=sys.stderr)
    return 125 if missing else 0


def inspect_image(record: ImageRecord) -> dict[str, Any]:
    config = record.config
    return {
        "Id": record.id, "Digest": record.digest, "RepoTags": record.names, "RepoDigests": record.repo_digests,
        "Created": record.created, "Architecture": config.get("architecture", ""), "Os": config.get("os", ""),
        "Size": record.size, "Config": config.get("config") or {},
        "RootFS": {"Type": "layers", "Layers": [layer.diff_id for layer in record.layers]},
        "Layers": [{"Digest": layer.digest, "DiffID": layer.diff_id, "Size": layer.size} for layer in record.layers],
        "History": config.get("history") or [],
    }


# --- names -----------------------------------------------------------------------------------


def _tag(paths: Paths, args: argparse.Namespace) -> int:
    from podbay.runtime.images.reference import ReferenceError, normalise  # noqa: PLC0415

    store = ImageStore(paths.images)
    try:
        targets = [normalise(name) for name in args.targets]
    except ReferenceError as err:
        return _error(err)
    if any("@" in target for target in targets):
        return _error("a tag cannot be a digest reference")
    with store.locked():
        record = store.find(args.source)
        if record is None:
            return _error(f"{args.source}: image not known")
        record.names = list(dict.fromkeys(record.names + targets))
        store.save(record)
    return 0


# --- removing --------------------------------------------------------------------------------


def images_in_use(paths: Paths, store: ImageStore) -> dict[str, list[str]]:
    """image id -> the pods (namespace/name) whose containers use it."""
    from podbay.runtime.state.store import StateError, StateStore  # noqa: PLC0415

    used: dict[str, list[str]] = {}
    state = paths.run_dir / "state.db"
    if not state.exists():
        return used
    try:
        pods = StateStore(state).pods()
    except StateError:
        return used
    records = store.records()
    for pod in pods:
        spec = pod.manifest.get("spec") or {}
        # What a container started from (its status's imageID, which outlives a renamed image), and what
        # its spec names (a container not started yet).
        ids = {str(s.get("imageID") or "") for key in ("initContainerStatuses", "containerStatuses",
                                                       "ephemeralContainerStatuses")
               for s in pod.status.get(key) or []}
        for key in ("initContainers", "containers", "ephemeralContainers"):
            for container in spec.get(key) or []:
                named = store.find(str(container.get("image") or ""))
                if named is not None:
                    ids.add(f"sha256:{named.id}")
        for record in records:
            if ids & ({f"sha256:{record.id}", record.digest} | set(record.repo_digests)) - {""}:
                used.setdefault(record.id, []).append(f"{pod.namespace}/{pod.name}")
    return used


def _in_use_layers(store: ImageStore, used: dict[str, list[str]]) -> set[str]:
    return {layer.diff_id for image_id in used if (r := store.get_by_id(image_id)) for layer in r.layers}


def _rmi(paths: Paths, args: argparse.Namespace) -> int:
    store = ImageStore(paths.images)
    failed = False
    with store.locked():
        used = images_in_use(paths, store)
        for name in args.images:
            record = store.find(name)
            if record is None:
                print(f"error: {name}: image not known", file=sys.stderr)
                failed = True
                continue
            pods = used.get(record.id)
            if pods and not args.force:
                print(f"error: image {name} ({record.id[:12]}) is used by pod(s) {', '.join(sorted(set(pods)))}: "
                      "delete them first, or use --force", file=sys.stderr)
                failed = True
                continue
            untag = [n for n in record.names if n == _normalised(name)]
            if untag and len(record.names) > 1:  # one of several names: only that name goes (docker's rmi)
                record.names = [n for n in record.names if n not in untag]
                store.write(record)
                print(f"Untagged: {untag[0]}")
                continue
            if pods:  # --force on an image in use: untagged; its files stay until no pod uses them
                record.names = []
                store.write(record)
                print(f"Untagged: {record.id}")
                continue
            store.remove(record)
            print(f"Deleted: {record.id}")
        store.garbage_collect(_in_use_layers(store, used))
    for warning in store.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    return 125 if failed else 0


def _normalised(name: str) -> str:
    from podbay.runtime.images.reference import ReferenceError, normalise  # noqa: PLC0415

    try:
        return normalise(name)
    except ReferenceError:
        return ""


def _prune(paths: Paths, args: argparse.Namespace) -> int:
    store = ImageStore(paths.images)
    with store.locked():
        used = images_in_use(paths, store)
        for record in store.records():
            if record.id in used or (record.names and not args.all):
                continue
            store.remove(record)
            print(record.id)
        freed = store.garbage_collect(_in_use_layers(store, used))
    print(f"Freed {human(freed)}", file=sys.stderr)
    return 0


# --- archives --------------------------------------------------------------------------------


def _save(paths: Paths, args: argparse.Namespace) -> int:
    from podbay.runtime.images.save import SaveError, save_archive  # noqa: PLC0415

    store = ImageStore(paths.images)
    records, missing = _find_all(store, args.images)
    if missing:
        return _error(f"{', '.join(missing)}: image not known")
    try:
        save_archive(store, list(zip(args.images, records, strict=True)), Path(args.output))
    except SaveError as err:
        return _error(err)
    return 0


def _load(paths: Paths, args: argparse.Namespace) -> int:
    archive = args.archive or args.file
    if not archive:
        return _error("image load: give the archive as FILE or -i FILE")
    return load_command(paths, archive, args.tag)


def load_command(paths: Paths, archive: str, tags: list[str]) -> int:
    from podbay.runtime.images.load import ArchiveError, load_archive  # noqa: PLC0415

    store = ImageStore(paths.images)
    try:
        records = load_archive(Path(archive), store, tags)
        for record in records:
            _unpack(store, record)
    except (ArchiveError, ImageStoreError) as err:
        return _error(err)
    for record in records:
        print(f"Loaded image: {', '.join(record.names) or record.id}")
    return 0


# --- credentials -----------------------------------------------------------------------------


def _login(paths: Paths, args: argparse.Namespace) -> int:
    from podbay.runtime.images import auth  # noqa: PLC0415
    from podbay.runtime.images.reference import Reference  # noqa: PLC0415
    from podbay.runtime.images.registry import Client, RegistryError  # noqa: PLC0415

    registry = _registry_name(args.registry)
    if args.get_login:
        found, _ = auth.find(registry, registry, args.authfile)
        if found is None:
            return _error(f"not logged in to {registry}")
        print(found.username)
        return 0
    username = args.username or input("Username: ")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = args.password or getpass.getpass("Password: ")
    if not username or not password:
        return _error("login: a username and a password are needed")
    credentials = auth.Credentials(username, password)
    # A scope the registry will challenge for: GET /v2/ proves basic auth; token registries are asked for
    # a token with the credentials (a wrong password fails at the token service).
    client = Client(Reference(registry, "podbay/login-check"), credentials, tls_verify=args.tls_verify == "true",
                    insecure=_insecure(registry))
    try:
        client.check()
    except RegistryError as err:
        return _error(f"login to {registry} failed: {err}")
    try:
        path = auth.store(registry, credentials, args.authfile)
    except auth.AuthError as err:
        return _error(err)
    print(f"Login Succeeded! (credentials in {path})")
    return 0


def _insecure(registry: str) -> bool:
    from podbay.runtime.images import registries  # noqa: PLC0415
    from podbay.runtime.images.reference import Reference  # noqa: PLC0415

    try:
        return registries.load().rule(Reference(registry, "x")).insecure
    except registries.RegistriesError:
        return False


def _registry_name(text: str) -> str:
    """``https://host:5000/v2/`` or ``host:5000`` -> ``host:5000``; docker's historical names -> docker.io."""
    name = text.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    return "docker.io" if name in ("index.docker.io", "registry-1.docker.io") else name


def _logout(paths: Paths, args: argparse.Namespace) -> int:
    from podbay.runtime.images import auth  # noqa: PLC0415

    if not args.all and not args.registry:
        return _error("logout: name a REGISTRY, or --all")
    registry = "" if args.all else _registry_name(args.registry)
    try:
        removed = auth.remove(registry, args.authfile)
    except auth.AuthError as err:
        return _error(err)
    if not removed and registry:
        return _error(f"not logged in to {registry} (in {auth.own_file(args.authfile)})")
    print(f"Removed login credentials for {registry or 'all registries'}")
    return 0
