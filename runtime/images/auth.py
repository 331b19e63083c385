"""Registry credentials: the auth files podman and docker write, and podbay's own for ``podbay login``.

Searched in order, the first file holding an entry for the registry (or a longer prefix of the
repository, as podman allows) wins:

1. ``--authfile`` / ``$REGISTRY_AUTH_FILE`` when given (then it is also where login writes);
2. podbay's own ``$XDG_CONFIG_HOME/podbay/auth.json`` (``podbay login`` writes it, mode 0600);
3. ``$XDG_RUNTIME_DIR/containers/auth.json`` (podman's; ``/run/containers/0/auth.json`` for root);
4. ``$XDG_CONFIG_HOME/containers/auth.json``;
5. ``~/.docker/config.json`` and ``~/.dockercfg`` (docker's).

An entry is ``{"auth": base64("user:password")}``; docker.io also answers to docker's historical key
``https://index.docker.io/v1/``. A file may instead name a credential helper for the registry
(``credHelpers``) or for every registry (``credsStore``): ``docker-credential-NAME get`` is run with the
server on its standard input and answers ``{"Username": ..., "Secret": ...}``, as docker and podman run it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOCKER_HUB_KEYS = ("docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/")


class AuthError(Exception):
    pass


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def own_file(authfile: str = "") -> Path:
    """Where ``podbay login`` writes."""
    chosen = authfile or os.environ.get("REGISTRY_AUTH_FILE", "")
    return Path(chosen) if chosen else _config_home() / "podbay" / "auth.json"


def search_files(authfile: str = "") -> list[Path]:
    chosen = authfile or os.environ.get("REGISTRY_AUTH_FILE", "")
    if chosen:
        return [Path(chosen)]
    runtime = os.environ.get("XDG_RUNTIME_DIR") or ("/run/containers/0" if os.geteuid() == 0 else "")
    files = [own_file()]
    if runtime:
        files.append(Path(runtime) / "containers" / "auth.json" if os.environ.get("XDG_RUNTIME_DIR")
                     else Path(runtime) / "auth.json")
    files += [_config_home() / "containers" / "auth.json", Path.home() / ".docker" / "config.json",
              Path.home() / ".dockercfg"]
    return files


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise AuthError(f"{path}: cannot read credentials: {err}") from err
    if not isinstance(data, dict):
        raise AuthError(f"{path}: not a JSON object")
    return data


def _read(path: Path, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The file's ``auths`` (``data``: its content, when already loaded)."""
    data = _load(path) if data is None else data
    auths = data.get("auths", data if path.name == ".dockercfg" else {})
    if not isinstance(auths, dict):
        raise AuthError(f"{path}: \"auths\" must be an object")
    return auths


def _keys(registry: str, repository: str) -> list[str]:
    """Keys an entry may have for this repository, most specific first."""
    parts = repository.split("/")
    keys = ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]
    return keys + (list(DOCKER_HUB_KEYS) if registry == "docker.io" else [registry])


def _decode(entry: Any, path: Path, key: str) -> Credentials | None:
    if not isinstance(entry, dict):
        raise AuthError(f"{path}: auths.{key} must be an object")
    if entry.get("auth"):
        try:
            user, sep, password = base64.b64decode(entry["auth"], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as err:
            raise AuthError(f"{path}: auths.{key}.auth is not base64 of user:password") from err
        if not sep:
            raise AuthError(f"{path}: auths.{key}.auth is not base64 of user:password")
        return Credentials(user, password)
    if entry.get("username"):
        return Credentials(str(entry["username"]), str(entry.get("password", "")))
    return None


def find(registry: str, repository: str = "", authfile: str = "",
         secrets: list[tuple[str, dict[str, Any]]] | None = None) -> tuple[Credentials | None, Path | None]:
    """The credentials for ``registry`` (``repository``: ``domain/path``), and the file they came from:
    a pod's pull ``secrets`` first (their name, their auths), as the kubelet tries them, then the files."""
    keys = _keys(registry, repository or registry)
    sources: list[tuple[Path, dict[str, Any]]] = [(Path(name), {"auths": auths}) for name, auths in secrets or []]
    for path, data in sources + [(path, _load(path)) for path in search_files(authfile)]:
        helper = _helper_name(data, registry)
        if helper:
            from_helper = run_helper(helper, registry, path)
            if from_helper is not None:
                return from_helper, path
        auths = _read(path, data)
        for key in keys:
            if key in auths:
                found = _decode(auths[key], path, key)
                if found is not None:
                    return found, path
    return None, None


def _helper_name(data: dict[str, Any], registry: str) -> str:
    """The credential helper a config names for ``registry``: its own (credHelpers), else the store's."""
    helpers = data.get("credHelpers")
    if not isinstance(helpers, dict):
        helpers = {}
    for key in DOCKER_HUB_KEYS if registry == "docker.io" else (registry,):
        if helpers.get(key):
            return str(helpers[key])
    return str(data.get("credsStore") or "")


def run_helper(name: str, registry: str, path: Path) -> Credentials | None:
    """``docker-credential-NAME get`` for ``registry``; None when it holds nothing for it."""
    program = f"docker-credential-{name}"
    server = "https://index.docker.io/v1/" if registry == "docker.io" else registry
    try:
        done = subprocess.run([program, "get"], input=server, capture_output=True, text=True, timeout=60,
                              check=False)
    except FileNotFoundError as err:
        raise AuthError(f"{path} names the credential helper {program}, which is not installed") from err
    except subprocess.TimeoutExpired as err:
        raise AuthError(f"{program} get did not answer within 60 s") from err
    said = (done.stderr or done.stdout).strip()
    if done.returncode != 0:
        if "credentials not found" in said.lower():
            return None
        raise AuthError(f"{program} get failed: {said or f'exit code {done.returncode}'}")
    try:
        answer = json.loads(done.stdout)
        username, secret = str(answer["Username"]), str(answer["Secret"])
    except (ValueError, KeyError, TypeError) as err:
        raise AuthError(f"{program} get answered something that is not its JSON: {done.stdout[:200]!r}") from err
    if username == "<token>":
        raise AuthError(f"{program} holds an identity token for {registry}, which podbay cannot use; "
                        f"log in with podbay login {registry}")
    return Credentials(username, secret)


def from_secret(name: str, values: dict[str, bytes]) -> tuple[str, dict[str, Any]]:
    """A pull secret's auths: ``.dockerconfigjson`` ({"auths": {...}}) or the older ``.dockercfg`` ({...})."""
    raw = values.get(".dockerconfigjson") or values.get(".dockercfg")
    if raw is None:
        raise AuthError(f'secret "{name}" has neither .dockerconfigjson nor .dockercfg')
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise AuthError(f'secret "{name}": its docker config is not JSON: {err}') from err
    auths = data.get("auths", data) if isinstance(data, dict) and ".dockerconfigjson" in values else data
    if not isinstance(auths, dict):
        raise AuthError(f'secret "{name}": "auths" must be an object')
    return f"secret {name}", auths


def _write(path: Path, auths: dict[str, Any]) -> None:
    try:
        whole = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError) as err:
        raise AuthError(f"{path}: cannot update credentials: {err}") from err
    whole["auths"] = auths
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, prefix=".auth-") as out:
        os.fchmod(out.fileno(), 0o600)  # secrets: never readable by others, not even for a moment
        json.dump(whole, out, indent=1)
    os.replace(out.name, path)


def store(registry: str, credentials: Credentials, authfile: str = "") -> Path:
    path = own_file(authfile)
    auths = _read(path)
    token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
    auths[registry] = {"auth": token}
    _write(path, auths)
    return path


def remove(registry: str, authfile: str = "") -> bool:
    """Forget ``registry`` (all registries when empty) in podbay's file; False when it had nothing."""
    path = own_file(authfile)
    auths = _read(path)
    if not registry:
        if not auths:
            return False
        _write(path, {})
        return True
    keys = list(DOCKER_HUB_KEYS) if registry == "docker.io" else [registry]
    found = [k for k in keys if k in auths]
    for key in found:
        del auths[key]
    if found:
        _write(path, auths)
    return bool(found)
