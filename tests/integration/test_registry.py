"""Pulling from a real registry: Debian's docker-registry on the tests' own loopback (in the test network
namespace, where podbay runs), with our images pushed to it; nothing here reaches the internet."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _store, assert_clean_after
from tests.imagebuilder import Entry, busybox_layer, layer_tar
from tests.podbay_harness import Podbay
from tests.registry import (
    Registry,
    SlowProxy,
    TokenService,
    digest_of,
    host_architecture,
    htpasswd_auth,
    inside,
    make_certificate,
)

pytestmark = [pytest.mark.registry, pytest.mark.images, pytest.mark.root]
OTHER_ARCH = "arm64" if host_architecture() != "arm64" else "amd64"


@dataclass
class Pushed:
    folder: Path
    manifests: dict[str, str] = field(default_factory=dict)  # repository:tag -> manifest digest
    layers: dict[str, str] = field(default_factory=dict)  # name -> blob digest


def _marker(text: str) -> bytes:
    return layer_tar([Entry("marker", data=f"{text}\n".encode())])


@pytest.fixture(scope="session")
def pushed(workdir: Path, test_netns: str) -> Pushed:
    """The test images, pushed once to an open registry; each test serves the same storage its own way."""
    folder = workdir / "registry"
    folder.mkdir()
    folder.chmod(0o755)
    result = Pushed(folder)
    base = layer_tar(busybox_layer())
    with inside(test_netns):
        registry = Registry(folder).start()
        try:
            for how in ("gzip", "zstd", "none"):
                result.manifests[f"busybox:{how}"], _ = registry.push_image("tests/busybox", how, [base, _marker(how)],
                                                                            how=how)
            result.manifests["busybox:docker"], _ = registry.push_image("tests/busybox", "docker",
                                                                        [base, _marker("docker")], docker=True)
            host, _ = registry.push_image("tests/multi", "host", [base, _marker("host")])
            other, _ = registry.push_image("tests/multi", "other", [base, _marker("other")], architecture=OTHER_ARCH)
            result.manifests["multi:1"] = registry.push_index(
                "tests/multi", "1", [(other, OTHER_ARCH, "v8" if OTHER_ARCH == "arm64" else ""),
                                     (host, host_architecture(), "")])
            big = layer_tar([Entry("big", data=os.urandom(24 << 20))])
            result.layers["big"] = digest_of(big)
            result.manifests["big:1"], _ = registry.push_image("tests/big", "1", [base, big], how="none")
            corrupt = _marker("corrupt")
            result.layers["corrupt"] = digest_of(corrupt)
            result.manifests["corrupt:1"], _ = registry.push_image("tests/corrupt", "1", [base, corrupt], how="none")
        finally:
            registry.stop()
    blob = registry.blob_file(result.layers["corrupt"])
    blob.write_bytes(bytes(len(blob.read_bytes())))  # same size, other content: the digest no longer matches
    return result


@pytest.fixture(scope="session")
def registry_store(workdir: Path, test_netns: str) -> Podbay:
    return _store(workdir / "registry-root", 0, 0, [], netns=test_netns)


@pytest.fixture
def store(registry_store: Podbay) -> Iterator[Podbay]:
    """A root store of its own (its images are all removed after each test), which leaves nothing behind."""
    yield registry_store
    try:
        assert_clean_after(registry_store)
    finally:
        registry_store.cli("image", "prune", "-a")


@pytest.fixture
def registry(pushed: Pushed, test_netns: str) -> Iterator[Registry]:
    """A registry on a port of its own, not yet started (each test chooses its auth and TLS)."""
    served = Registry(pushed.folder)
    yield served
    served.stop()


def serve(registry: Registry, netns: str, **options: Any) -> Registry:
    with inside(netns):
        return registry.start(**options)


def serve_behind_proxy(registry: Registry, netns: str, rate: int = 4 << 20) -> SlowProxy:
    """The registry served, and a proxy to it sending ``rate`` bytes a second."""
    serve(registry, netns)
    with inside(netns):
        return SlowProxy(registry.port, rate)


def pull(podbay: Podbay, *args: str) -> subprocess.CompletedProcess[str]:
    return podbay.cli("pull", *args)


def assert_pulled(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout.strip().splitlines()[-1]


def run_marker(podbay: Podbay, image: str) -> str:
    done = podbay.run(_pod("marker", image, "IfNotPresent"))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def give_file(podbay: Podbay, relative: str, text: str) -> Path:
    """A file in the store user's home (its ~/.config, ~/.docker ...), owned by that user."""
    path = podbay.home / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    for folder in [path, *path.parents]:
        if folder == podbay.home:
            break
        os.chown(folder, podbay.uid, podbay.gid)
    return path


def auth_json(host: str, user: str, password: str) -> str:
    import base64  # noqa: PLC0415

    return json.dumps({"auths": {host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}})


# --- anonymous pulls, formats, names ---------------------------------------------------------------


def test_anonymous_pull_of_gzip_zstd_and_plain_layers_then_run(podbay: Podbay, registry: Registry,
                                                               test_netns: str, pushed: Pushed) -> None:
    serve(registry, test_netns)
    for how in ("gzip", "zstd", "none", "docker"):  # OCI manifests with each compression; a Docker schema 2 one
        image = f"{registry.host}/tests/busybox:{how}"
        assert_pulled(pull(podbay, "--tls-verify=false", image))
        assert run_marker(podbay, image) == how
    listed = podbay.cli("images", "--digests").stdout
    assert f"{registry.host}/tests/busybox" in listed and pushed.manifests["busybox:zstd"] in listed
    pinned = f"{registry.host}/tests/busybox@{pushed.manifests['busybox:gzip']}"
    assert_pulled(pull(podbay, "--tls-verify=false", pinned))
    assert podbay.cli("image", "inspect", pinned).returncode == 0
    for how in ("gzip", "zstd", "none", "docker"):
        assert podbay.cli("image", "rm", f"{registry.host}/tests/busybox:{how}").returncode == 0


def test_malformed_references_get_a_clear_error(store: Podbay) -> None:
    for bad, why in (("Tests/UPPER:1", "lowercase"), ("busybox:a:b", "more than one tag"),
                     ("busybox@sha256:12", "digest"), ("", "empty")):
        done = store.cli("pull", bad)
        assert done.returncode == 125 and "invalid image reference" in done.stderr and why in done.stderr, \
            done.stderr


def test_short_names_follow_registries_conf(store: Podbay, registry: Registry, test_netns: str) -> None:
    podbay = store
    serve(registry, test_netns)
    conf = give_file(podbay, "registries.conf", f"""
unqualified-search-registries = ["{registry.host}"]
[aliases]
"mybox" = "{registry.host}/tests/busybox"
[[registry]]
location = "{registry.host}"
insecure = true
""")
    podbay.extra_env["CONTAINERS_REGISTRIES_CONF"] = str(conf)
    try:
        assert_pulled(pull(podbay, "mybox:gzip"))  # the alias; insecure from the file, no --tls-verify
        assert_pulled(pull(podbay, "tests/busybox:zstd"))  # the search registry
        listed = podbay.cli("images").stdout
        assert f"{registry.host}/tests/busybox  gzip" in listed and f"{registry.host}/tests/busybox  zstd" in listed
        assert run_marker(podbay, "mybox:gzip") == "gzip"  # a pod's short name means the same image
    finally:
        del podbay.extra_env["CONTAINERS_REGISTRIES_CONF"]


# --- auth --------------------------------------------------------------------------------------------


def test_htpasswd_basic_auth_login_and_logout(store: Podbay, registry: Registry, test_netns: str,
                                              pushed: Pushed) -> None:
    podbay = store
    serve(registry, test_netns, auth=htpasswd_auth(pushed.folder, "alice", "s3cret"))
    image = f"{registry.host}/tests/busybox:gzip"
    refused = pull(podbay, "--tls-verify=false", image)
    assert refused.returncode == 125 and "401" in refused.stderr and "podbay login" in refused.stderr
    wrong = podbay.cli("login", "--tls-verify=false", "-u", "alice", "--password-stdin", registry.host, stdin="nope\n")
    assert wrong.returncode == 125 and "401" in wrong.stderr
    login = podbay.cli("login", "--tls-verify=false", "-u", "alice", "--password-stdin", registry.host,
                       stdin="s3cret\n")
    assert login.returncode == 0 and "Login Succeeded" in login.stdout, login.stderr
    own = podbay.home / ".config" / "podbay" / "auth.json"
    assert own.stat().st_mode & 0o077 == 0, "credentials readable by others"
    assert podbay.cli("login", "--get-login", registry.host).stdout.strip() == "alice"
    assert_pulled(pull(podbay, "--tls-verify=false", image))
    assert podbay.cli("logout", registry.host).returncode == 0
    podbay.cli("image", "rm", image)
    assert pull(podbay, "--tls-verify=false", image).returncode == 125
    # A pod's imagePullSecrets: a kubernetes.io/dockerconfigjson Secret in the same file.
    conf = give_file(podbay, "registries.conf", f'[[registry]]\nlocation = "{registry.host}"\ninsecure = true\n')
    podbay.extra_env["CONTAINERS_REGISTRIES_CONF"] = str(conf)
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "regcred"},
              "type": "kubernetes.io/dockerconfigjson",
              "stringData": {".dockerconfigjson": auth_json(registry.host, "alice", "s3cret")}}
    with_secret = _pod("secret", image, "IfNotPresent")
    with_secret["spec"]["imagePullSecrets"] = [{"name": "regcred"}]
    try:
        done = podbay.run(json.dumps(secret) + "\n---\n" + json.dumps(with_secret))
        assert done.returncode == 0 and done.stdout.strip() == "gzip", done.stderr
        assert f'Successfully pulled image "{image}"' in done.stderr
    finally:
        del podbay.extra_env["CONTAINERS_REGISTRIES_CONF"]
    podbay.cli("image", "rm", image)
    docker = give_file(podbay, ".docker/config.json", auth_json(registry.host, "alice", "s3cret"))
    try:
        assert_pulled(pull(podbay, "--tls-verify=false", image))  # docker's file is read too
    finally:
        docker.unlink()
        podbay.cli("image", "rm", image)
    # A credential helper named by docker's file (credHelpers), in docker's protocol.
    helper = give_file(podbay, "bin/docker-credential-testpass",
                       "#!/bin/sh\nread server\n[ \"$1 $server\" = \"get " + registry.host + "\" ] || exit 1\n"
                       "echo '{\"Username\": \"alice\", \"Secret\": \"s3cret\"}'\n")
    helper.chmod(0o755)
    docker = give_file(podbay, ".docker/config.json", json.dumps({"credHelpers": {registry.host: "testpass"}}))
    podbay.extra_env["PATH"] = f"{helper.parent}:{podbay.env()['PATH']}"
    try:
        assert_pulled(pull(podbay, "--tls-verify=false", image))
    finally:
        del podbay.extra_env["PATH"]
        docker.unlink()
        podbay.cli("image", "rm", image)


def test_bearer_token_auth(store: Podbay, registry: Registry, test_netns: str, pushed: Pushed) -> None:
    podbay = store
    with inside(test_netns):
        tokens = TokenService(pushed.folder, users={"bob": "tok3n"})
    try:
        serve(registry, test_netns, auth=tokens.registry_auth())
        image = f"{registry.host}/tests/busybox:zstd"
        refused = pull(podbay, "--tls-verify=false", image)
        assert refused.returncode == 125 and "token service" in refused.stderr and "401" in refused.stderr
        authfile = give_file(podbay, "creds.json", auth_json(registry.host, "bob", "tok3n"))
        assert_pulled(pull(podbay, "--tls-verify=false", "--authfile", str(authfile), image))
        asked = tokens.requests[-1]
        assert asked["scope"] == "repository:tests/busybox:pull" and asked["service"] == "podbay-test-registry"
        assert asked["authorization"].startswith("Basic ")
        assert run_marker(podbay, image) == "zstd"
    finally:
        tokens.close()
        podbay.cli("image", "rm", f"{registry.host}/tests/busybox:zstd")


def test_tls_is_verified_by_default(store: Podbay, registry: Registry, test_netns: str,
                                    pushed: Pushed) -> None:
    podbay = store
    cert, key = make_certificate(pushed.folder, "registry-tls", ip="127.0.0.1")
    serve(registry, test_netns, tls=(cert, key))
    image = f"{registry.host}/tests/busybox:gzip"
    untrusted = pull(podbay, image)
    assert untrusted.returncode == 125 and "TLS failed" in untrusted.stderr and "certs.d" in untrusted.stderr
    assert_pulled(pull(podbay, "--tls-verify=false", image))
    podbay.cli("image", "rm", image)
    give_file(podbay, f".config/containers/certs.d/{registry.host}/ca.crt", cert.read_text())
    assert_pulled(pull(podbay, image))  # verified against the CA podman's certs.d names
    podbay.cli("image", "rm", image)


# --- platforms, integrity, interruptions -------------------------------------------------------------


def test_a_multi_arch_index_resolves_to_this_platform(store: Podbay, registry: Registry,
                                                      test_netns: str, pushed: Pushed) -> None:
    podbay = store
    serve(registry, test_netns)
    image = f"{registry.host}/tests/multi:1"
    assert_pulled(pull(podbay, "--tls-verify=false", image))
    assert run_marker(podbay, image) == "host"
    inspected = json.loads(podbay.cli("image", "inspect", image).stdout)[0]
    assert inspected["Architecture"] == host_architecture()
    assert f"{registry.host}/tests/multi@{pushed.manifests['multi:1']}" in inspected["RepoDigests"]
    other = "linux/arm64/v8" if OTHER_ARCH == "arm64" else "linux/amd64"
    assert_pulled(pull(podbay, "--tls-verify=false", "--platform", other, image))
    assert json.loads(podbay.cli("image", "inspect", image).stdout)[0]["Architecture"] == OTHER_ARCH
    missing = pull(podbay, "--tls-verify=false", "--platform", "linux/s390x", image)
    assert missing.returncode == 125 and "no image for linux/s390x" in missing.stderr
    assert f"linux/{host_architecture()}" in missing.stderr


def _store_blobs(podbay: Podbay) -> set[str]:
    folder = podbay.data_dir / "images" / "blobs" / "sha256"
    return {f"sha256:{p.name}" for p in folder.iterdir()} if folder.is_dir() else set()


def test_a_corrupted_blob_is_refused_and_nothing_is_stored(store: Podbay, registry: Registry,
                                                           test_netns: str, pushed: Pushed) -> None:
    podbay = store
    serve(registry, test_netns)
    done = pull(podbay, "--tls-verify=false", f"{registry.host}/tests/corrupt:1")
    assert done.returncode == 125 and "is corrupt" in done.stderr and "Traceback" not in done.stderr
    assert pushed.layers["corrupt"] not in _store_blobs(podbay)
    assert not list((podbay.data_dir / "images" / "tmp").glob("*.partial"))
    assert "tests/corrupt" not in podbay.cli("images").stdout


def test_a_registry_killed_mid_pull_fails_cleanly_and_the_next_pull_resumes(
        store: Podbay, registry: Registry, test_netns: str, pushed: Pushed) -> None:
    podbay = store
    proxy = serve_behind_proxy(registry, test_netns, 8 << 20)
    try:
        assert registry.process is not None
        pid = registry.process.pid

        def kill_at_8_mb(sent: int) -> None:
            if sent > 8 << 20 and proxy.on_bytes is not None:
                proxy.on_bytes = None
                os.kill(pid, signal.SIGKILL)

        proxy.on_bytes = kill_at_8_mb
        image = f"{proxy.host}/tests/big:1"
        failed = pull(podbay, "--tls-verify=false", image)
        assert failed.returncode == 125 and "Traceback" not in failed.stderr, failed.stderr
        assert "blob" in failed.stderr and "tests/big" in failed.stderr
        assert pushed.layers["big"] not in _store_blobs(podbay)
        assert "tests/big" not in podbay.cli("images").stdout
        registry.stop(signal.SIGKILL)
        serve(registry, test_netns)  # the same port: the proxy reaches it again
        assert_pulled(pull(podbay, "--tls-verify=false", image))
        resumed = [r for r in proxy.ranges if r.startswith("bytes=") and not r.startswith("bytes=0-")]
        assert resumed, f"the second pull did not resume the partial blob (ranges asked: {proxy.ranges})"
        assert pushed.layers["big"] in _store_blobs(podbay)
    finally:
        proxy.close()


def test_a_pull_killed_midway_is_resumed_by_the_next(store: Podbay, registry: Registry, test_netns: str,
                                                     pushed: Pushed) -> None:
    podbay = store
    proxy = serve_behind_proxy(registry, test_netns, 8 << 20)
    try:
        argv, kwargs = podbay.argv("pull", "--tls-verify=false", f"{proxy.host}/tests/big:1")
        puller = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=podbay.env(),
                                  cwd=str(podbay.home), **kwargs)
        proxy.on_bytes = lambda sent: sent > 8 << 20 and puller.poll() is None and puller.kill()
        puller.communicate(timeout=120)
        assert puller.returncode == -signal.SIGKILL
        assert pushed.layers["big"] not in _store_blobs(podbay)
        assert_pulled(pull(podbay, "--tls-verify=false", f"{proxy.host}/tests/big:1"))
        assert any(r.startswith("bytes=") and not r.startswith("bytes=0-") for r in proxy.ranges), proxy.ranges
    finally:
        proxy.close()


def test_a_full_disk_fails_cleanly_and_trusts_nothing(workdir: Path, registry: Registry, test_netns: str,
                                                      pushed: Pushed) -> None:
    small = workdir / "small-disk"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(small)], check=True)
    try:
        podbay = _store(small / "home", 0, 0, [], netns=test_netns)
        serve(registry, test_netns)
        done = pull(podbay, "--tls-verify=false", f"{registry.host}/tests/big:1")
        assert done.returncode == 125 and "No space left on device" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        assert pushed.layers["big"] not in _store_blobs(podbay)
        assert podbay.cli("images", "-q").stdout.strip() == ""
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_http_proxies_come_from_the_environment(store: Podbay, registry: Registry, test_netns: str) -> None:
    podbay = store
    proxy = serve_behind_proxy(registry, test_netns)
    podbay.extra_env["http_proxy"] = f"http://{proxy.host}"
    try:
        assert_pulled(pull(podbay, "--tls-verify=false", f"{registry.host}/tests/busybox:gzip"))
        assert any(line.startswith(f"GET http://{registry.host}/v2/tests/busybox/blobs/")
                   for line in proxy.request_lines), proxy.request_lines
    finally:
        del podbay.extra_env["http_proxy"]
        proxy.close()


def test_two_concurrent_pulls_fetch_each_blob_once(store: Podbay, registry: Registry,
                                                   test_netns: str, pushed: Pushed) -> None:
    podbay = store
    proxy = serve_behind_proxy(registry, test_netns, 12 << 20)  # about two seconds for the big layer: they overlap
    try:
        argv, kwargs = podbay.argv("pull", "--tls-verify=false", f"{proxy.host}/tests/big:1")
        pulls = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=podbay.env(),
                                  cwd=str(podbay.home), **kwargs) for _ in range(2)]
        outcomes = [p.communicate(timeout=120) for p in pulls]
        assert [p.returncode for p in pulls] == [0, 0], outcomes
        assert outcomes[0][0].split()[-1] == outcomes[1][0].split()[-1]
        assert registry.requests_for(f"/blobs/{pushed.layers['big']}") == 1
    finally:
        proxy.close()


# --- pods: pull policies, states and events ------------------------------------------------------------


def _pod(name: str, image: str, policy: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"restartPolicy": "Never",
            "containers": [{"name": "main", "image": image, "imagePullPolicy": policy, "command": ["cat", "/marker"]}]}}


def _waiting(obj: dict[str, Any]) -> str:
    statuses = obj.get("status", {}).get("containerStatuses") or [{}]
    return str(statuses[0].get("state", {}).get("waiting", {}).get("reason", ""))


def _events(podbay: Podbay, name: str) -> str:
    return podbay.cli("describe", "pod", name).stdout.split("Events:", 1)[-1]


def test_pods_pull_with_the_kubelets_states_and_events(store: Podbay, registry: Registry,
                                                       test_netns: str) -> None:
    podbay = store
    conf = give_file(podbay, "registries.conf", f'[[registry]]\nlocation = "{registry.host}"\ninsecure = true\n')
    podbay.extra_env["CONTAINERS_REGISTRIES_CONF"] = str(conf)
    try:
        image = f"{registry.host}/tests/busybox:gzip"
        podbay.create(_pod("always", image, "Always"))  # the registry is not up yet
        podbay.wait_pod("always", lambda p: _waiting(p) == "ErrImagePull", what="ErrImagePull")
        podbay.wait_pod("always", lambda p: _waiting(p) == "ImagePullBackOff", what="ImagePullBackOff")
        text = _events(podbay, "always")
        assert "Failed to pull image" in text and f'Back-off pulling image "{image}"' in text
        serve(registry, test_netns)
        podbay.wait_pod("always", lambda p: p.get("status", {}).get("phase") == "Succeeded", timeout=60,
                        what="Succeeded once the registry is up")
        text = _events(podbay, "always")
        assert f'Pulling image "{image}"' in text and f'Successfully pulled image "{image}" in' in text
        assert podbay.cli("logs", "always").stdout.strip() == "gzip"
        podbay.create(_pod("present", image, "IfNotPresent"))
        podbay.wait_pod("present", lambda p: p.get("status", {}).get("phase") == "Succeeded", what="Succeeded")
        assert f'Container image "{image}" already present on machine' in _events(podbay, "present")
        podbay.create(_pod("invalid", "Tests/UPPER:1", "IfNotPresent"))
        podbay.wait_pod("invalid", lambda p: _waiting(p) == "InvalidImageName", what="InvalidImageName")
        podbay.create(_pod("never", f"{registry.host}/tests/busybox:zstd", "Never"))
        podbay.wait_pod("never", lambda p: _waiting(p) == "ErrImageNeverPull", what="ErrImageNeverPull")
        listed = podbay.cli("get", "pods").stdout
        assert "InvalidImageName" in listed and "ErrImageNeverPull" in listed
    finally:
        podbay.cleanup_pods()
        del podbay.extra_env["CONTAINERS_REGISTRIES_CONF"]


def test_deleting_a_pod_cancels_its_image_pull(store: Podbay, registry: Registry, test_netns: str,
                                               pushed: Pushed) -> None:
    """As the kubelet cancels the pod's sync context: the delete does not wait for the 24 MB layer."""
    podbay = store
    proxy = serve_behind_proxy(registry, test_netns, 1 << 20)
    conf = give_file(podbay, "registries.conf", f'[[registry]]\nlocation = "{proxy.host}"\ninsecure = true\n')
    podbay.extra_env["CONTAINERS_REGISTRIES_CONF"] = str(conf)
    try:
        podbay.create(_pod("slow", f"{proxy.host}/tests/big:1", "IfNotPresent"))
        deadline = time.monotonic() + 60
        while proxy.sent < 2 << 20:
            assert time.monotonic() < deadline, "the pull never began"
            time.sleep(0.1)
        deleted = podbay.cli("delete", "pod", "slow")
        sent_by_then = proxy.sent
        assert deleted.returncode == 0, deleted.stderr
        assert sent_by_then < 20 << 20, "the delete waited for the pull to finish"
        assert "slow" not in podbay.cli("get", "pods").stdout
        assert pushed.layers["big"] not in _store_blobs(podbay)
        assert "tests/big" not in podbay.cli("images").stdout
    finally:
        proxy.close()
        podbay.cleanup_pods()
        del podbay.extra_env["CONTAINERS_REGISTRIES_CONF"]
    pruned = podbay.cli("image", "prune", "-a")
    assert pruned.returncode == 0, pruned.stderr
    assert not list((podbay.data_dir / "images" / "tmp").glob("*.partial")), "prune left the abandoned download"


# --- managing images ----------------------------------------------------------------------------------


def test_tag_inspect_save_load_rm_and_prune(store: Podbay, registry: Registry, test_netns: str) -> None:
    podbay = store
    serve(registry, test_netns)
    image = f"{registry.host}/tests/busybox:zstd"
    image_id = assert_pulled(pull(podbay, "-q", "--tls-verify=false", image))
    assert podbay.cli("tag", image, "localhost/mine:2").returncode == 0
    assert podbay.cli("images", "-q").stdout.split() == [image_id[:12]]
    inspected = json.loads(podbay.cli("image", "inspect", "localhost/mine:2").stdout)[0]
    assert inspected["Id"] == image_id and set(inspected["RepoTags"]) == {image, "localhost/mine:2"}
    archive = podbay.home / "saved.tar"
    assert podbay.cli("image", "save", "-o", str(archive), "localhost/mine:2").returncode == 0
    podbay.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "user"}, "spec": {"containers": [
        {"name": "main", "image": "localhost/mine:2", "imagePullPolicy": "Never", "command": ["sleep", "600"]}]}})
    podbay.wait_pod("user", lambda p: p.get("status", {}).get("phase") == "Running", what="Running")
    refused = podbay.cli("image", "rm", image_id)
    assert refused.returncode == 125 and "default/user" in refused.stderr
    forced = podbay.cli("image", "rm", "--force", image_id)
    assert forced.returncode == 0 and "Untagged" in forced.stdout
    assert "<none>" in podbay.cli("images").stdout  # kept, unnamed, while the pod runs
    assert podbay.cli("image", "prune").stdout.split() == []  # still in use
    podbay.cleanup_pods()
    assert podbay.cli("image", "prune").stdout.split() == [image_id]
    assert podbay.cli("images", "-q").stdout.split() == []
    assert not list((podbay.data_dir / "images" / "blobs" / "sha256").iterdir()), "blobs left after prune"
    loaded = podbay.cli("image", "load", str(archive))
    assert loaded.returncode == 0 and "localhost/mine:2" in loaded.stdout, loaded.stderr
    assert run_marker(podbay, "localhost/mine:2") == "zstd"
    assert podbay.cli("image", "prune", "-a").stdout.split() == [image_id]
