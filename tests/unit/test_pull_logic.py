"""The pure parts of pulling: references, registries.conf, auth files, challenges, platforms, policies."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from podbay.runtime.images import auth, registries
from podbay.runtime.images.load import load_archive
from podbay.runtime.images.policy import ImageBackoff, ImageError, ImageManager
from podbay.runtime.images.pull import PullError, choose_platform, host_platform
from podbay.runtime.images.reference import Reference, ReferenceError, parse
from podbay.runtime.images.registry import parse_challenge
from podbay.runtime.images.store import ImageStore
from tests.imagebuilder import build_image, busybox_layer

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "want"), [
    ("nginx", Reference("", "nginx")),
    ("library/nginx:1.14.2", Reference("", "library/nginx", "1.14.2")),
    ("localhost:5000/a/b:1@" + DIGEST, Reference("localhost:5000", "a/b", "1", DIGEST)),
    ("[::1]:5000/x", Reference("[::1]:5000", "x")),
    ("ghcr.io/org/app@" + DIGEST, Reference("ghcr.io", "org/app", "", DIGEST)),
])
def test_parse_keeps_what_was_written(text: str, want: Reference) -> None:
    assert parse(text) == want


def test_qualifying_follows_docker() -> None:
    assert str(parse("nginx").qualified().with_tag()) == "docker.io/library/nginx:latest"
    assert str(parse("org/app@" + DIGEST).qualified().with_tag()) == "docker.io/org/app@" + DIGEST
    assert parse("quay.io/x/y:2").qualified("other.io").repository == "quay.io/x/y"


@pytest.mark.parametrize(("bad", "why"), [
    ("", "empty"), (" nginx", "spaces"), ("a:b:c", "more than one tag"), ("Upper/X", "lowercase"),
    ("ok/UPPER", "lowercase"),
    ("x@sha256:12", "digest"), ("x:-tag", "tag may hold"),
])
def test_malformed_references_say_why(bad: str, why: str) -> None:
    with pytest.raises(ReferenceError, match=why):
        parse(bad)


def test_registries_conf_aliases_search_and_rules(tmp_path: Path) -> None:
    conf = tmp_path / "registries.conf"
    conf.write_text('unqualified-search-registries = ["registry.local:5000", "docker.io"]\n'
                    '[aliases]\n"web" = "quay.io/team/web"\n'
                    '[[registry]]\nlocation = "registry.local:5000"\ninsecure = true\n'
                    '[[registry]]\nprefix = "evil.io"\nblocked = true\n')
    (tmp_path / "registries.conf.d").mkdir()
    (tmp_path / "registries.conf.d" / "more.conf").write_text('[aliases]\n"db" = "docker.io/library/postgres"\n')
    chosen = registries.load(conf)
    assert [str(c) for c in chosen.candidates("app:1")] == ["registry.local:5000/app:1", "docker.io/library/app:1"]
    assert [str(c) for c in chosen.candidates("web:2")] == ["quay.io/team/web:2"]
    assert [str(c) for c in chosen.candidates("db")] == ["docker.io/library/postgres:latest"]
    assert [str(c) for c in chosen.candidates("ghcr.io/x/y")] == ["ghcr.io/x/y:latest"]
    assert chosen.rule(parse("registry.local:5000/app")).insecure
    assert chosen.rule(parse("evil.io/x")).blocked and not chosen.rule(parse("evil.iox/y")).blocked


@pytest.mark.parametrize(("text", "message"), [
    ("unqualified-search-registries = 3", "unqualified-search-registries must be a list"),
    ('[aliases]\n"x" = "short"', "aliases.x: 'short' is not a fully qualified"),
    ("[[registry]]\ninsecure = true", "registry[0]: needs a location"),
    ("not toml [", "registries.conf"),
])
def test_registries_conf_errors_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    conf = tmp_path / "registries.conf"
    conf.write_text(text)
    with pytest.raises(registries.RegistriesError, match=r"registries\.conf") as err:
        registries.load(conf)
    assert message in str(err.value)


def test_auth_files_are_searched_in_podmans_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    docker = tmp_path / ".docker" / "config.json"
    docker.parent.mkdir()
    docker.write_text(json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": "ZG9jazpodWI="},
                                            "quay.io/team": {"auth": "dGVhbTp4"}}}))
    assert auth.find("docker.io", "docker.io/library/nginx")[0] == auth.Credentials("dock", "hub")
    assert auth.find("quay.io", "quay.io/team/web")[0] == auth.Credentials("team", "x")  # a longer prefix
    assert auth.find("quay.io", "quay.io/other/web")[0] is None
    podman = tmp_path / "run" / "containers" / "auth.json"
    podman.parent.mkdir(parents=True)
    podman.write_text(json.dumps({"auths": {"docker.io": {"auth": "cG9kOm1hbg=="}}}))
    assert auth.find("docker.io", "docker.io/library/nginx")[0] == auth.Credentials("pod", "man")
    written = auth.store("docker.io", auth.Credentials("own", "file"))
    assert written == tmp_path / "config" / "podbay" / "auth.json" and written.stat().st_mode & 0o777 == 0o600
    assert auth.find("docker.io", "docker.io/library/nginx") == (auth.Credentials("own", "file"), written)
    assert auth.remove("docker.io") and not auth.remove("docker.io")
    assert auth.find("docker.io", "docker.io/x")[0] == auth.Credentials("pod", "man")


def test_credential_helpers_are_run_as_docker_runs_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    helpers = tmp_path / "bin"
    helpers.mkdir()
    # A helper in docker's protocol: the server on stdin, JSON out; "credentials not found" for others.
    (helpers / "docker-credential-fake").write_text(
        "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread server\ncase $server in\n"
        "  reg.test:5000) echo '{\"ServerURL\":\"reg.test:5000\",\"Username\":\"helped\",\"Secret\":\"s3\"}' ;;\n"
        "  https://index.docker.io/v1/) echo '{\"Username\":\"<token>\",\"Secret\":\"t\"}' ;;\n"
        "  *) echo 'credentials not found in native keychain' >&2; exit 1 ;;\nesac\n")
    (helpers / "docker-credential-fake").chmod(0o755)
    monkeypatch.setenv("PATH", f"{helpers}:{os.environ['PATH']}")
    docker = tmp_path / ".docker" / "config.json"
    docker.parent.mkdir()
    docker.write_text(json.dumps({"credHelpers": {"reg.test:5000": "fake", "other.test": "absent"},
                                  "auths": {"plain.test": {"auth": "dTpw"}}}))
    assert auth.find("reg.test:5000", "reg.test:5000/app") == (auth.Credentials("helped", "s3"), docker)
    assert auth.find("plain.test", "plain.test/app")[0] == auth.Credentials("u", "p")  # no helper for it
    with pytest.raises(auth.AuthError, match="names the credential helper docker-credential-absent, which is not "
                                             "installed"):
        auth.find("other.test", "other.test/app")
    docker.write_text(json.dumps({"credsStore": "fake", "auths": {"plain.test": {"auth": "dTpw"}}}))
    assert auth.find("reg.test:5000", "reg.test:5000/app")[0] == auth.Credentials("helped", "s3")
    assert auth.find("plain.test", "plain.test/app")[0] == auth.Credentials("u", "p")  # the store has none
    with pytest.raises(auth.AuthError, match=r"identity token for docker\.io"):
        auth.find("docker.io", "docker.io/library/nginx")


def test_a_malformed_auth_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "auth.json"
    bad.write_text(json.dumps({"auths": {"r.io": {"auth": "not base64!"}}}))
    with pytest.raises(auth.AuthError, match=f"{bad}: auths.r.io.auth is not base64"):
        auth.find("r.io", "r.io/x", str(bad))


def test_challenges_are_parsed() -> None:
    scheme, params = parse_challenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
                                     'scope="repository:library/nginx:pull"')
    assert scheme == "bearer" and params == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                                             "scope": "repository:library/nginx:pull"}
    assert parse_challenge('Basic realm="Registry Realm"') == ("basic", {"realm": "Registry Realm"})


def test_an_index_resolves_to_the_platform_with_the_best_variant() -> None:
    system, arch = host_platform()
    index = {"manifests": [
        {"digest": "sha256:a", "platform": {"os": system, "architecture": "arm", "variant": "v6"}},
        {"digest": "sha256:b", "platform": {"os": system, "architecture": "arm", "variant": "v7"}},
        {"digest": "sha256:c", "platform": {"os": system, "architecture": arch}},
        {"digest": "sha256:d", "platform": {"os": "windows", "architecture": arch}},
    ]}
    assert choose_platform(index)["digest"] == "sha256:c"
    assert choose_platform(index, "linux/arm/v7")["digest"] == "sha256:b"
    with pytest.raises(PullError, match=r"no image for linux/s390x in the index \(it offers .*linux/arm/v6, linux/ar"):
        choose_platform(index, "linux/s390x")


def test_the_image_backoff_doubles_to_its_cap() -> None:
    backoff = ImageBackoff(10, 40)
    assert [backoff.failed("k", 0) for _ in range(4)] == [10, 20, 40, 40]
    assert backoff.left("k", 30) == 10
    backoff.succeeded("k")
    assert backoff.left("k", 30) == 0


def test_pull_policies_without_a_registry(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    load_archive(build_image(tmp_path / "img.tar", "localhost/here:1", [busybox_layer()]), store)
    seen: list[tuple[str, str, str]] = []
    manager = ImageManager(store, ImageBackoff(30, 60))

    def reasons(image: str, policy: str) -> str:
        try:
            manager.ensure(image, policy, "pod", lambda *event: seen.append(event))
        except ImageError as err:
            return err.reason
        return "ok"

    assert reasons("localhost/here:1", "Never") == "ok"
    assert reasons("localhost/here:1", "Always") == "ok"  # localhost/ is never pulled
    assert seen[-1] == ("Normal", "Pulled", 'Container image "localhost/here:1" already present on machine')
    assert reasons("localhost/gone:1", "Never") == "ErrImageNeverPull"
    assert reasons("localhost/gone:1", "IfNotPresent") == "ErrImagePull"
    assert reasons("Bad/Name", "IfNotPresent") == "InvalidImageName"
    assert seen[-1][:2] == ("Warning", "InspectFailed")
    # 127.0.0.1:9 (discard) refuses: the pull fails, and the next attempt finds the backoff running.
    assert reasons("127.0.0.1:9/x:1", "IfNotPresent") == "ErrImagePull"
    assert seen[-2][1] == "Pulling" and seen[-1][1] == "Failed" and "cannot reach 127.0.0.1:9" in seen[-1][2]
    assert reasons("127.0.0.1:9/x:1", "IfNotPresent") == "ImagePullBackOff"
    assert seen[-1] == ("Normal", "BackOff", 'Back-off pulling image "127.0.0.1:9/x:1"')


def test_a_cancelled_pull_waiting_its_turn_ends_without_a_failure_or_backoff(tmp_path: Path) -> None:
    import threading  # noqa: PLC0415

    seen: list[tuple[str, str, str]] = []
    manager = ImageManager(ImageStore(tmp_path / "store"), ImageBackoff(30, 60))
    cancel = threading.Event()
    cancel.set()
    with manager.pull_lock, pytest.raises(ImageError, match="cancelled"):  # another pod's pull in progress
        manager.ensure("127.0.0.1:9/x:1", "Always", "pod", lambda *event: seen.append(event), cancel=cancel)
    assert [event[1] for event in seen] == ["Pulling"]
    assert manager.backoff.left("pod/127.0.0.1:9/x:1", 0) == 0


def test_garbage_collection_removes_abandoned_downloads_but_not_one_in_progress(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    abandoned, in_progress = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    with store.blob_lock(in_progress):
        for digest in (abandoned, in_progress):
            store.partial_path(digest).write_bytes(b"x" * 1000)
        with store.locked():
            assert store.garbage_collect() == 1000
        assert not store.partial_path(abandoned).exists()
        assert store.partial_path(in_progress).exists()


def test_progress_redraws_one_line_per_blob_in_place() -> None:
    import io  # noqa: PLC0415

    from podbay.runtime.cli.progress import PullProgress  # noqa: PLC0415

    screen = io.StringIO()
    progress = PullProgress(screen)
    progress("sha256:" + "1" * 64, 0, 2000)
    progress("sha256:" + "2" * 64, 2000, 2000)
    progress.last = 0  # as if 0.1 s had passed
    progress("sha256:" + "1" * 64, 1000, 2000)
    progress.finish()
    text = screen.getvalue()
    assert "\x1b[2F" in text  # back over the two lines drawn before
    assert "Copying blob 111111111111 [===============               ] 1 kB / 2 kB" in text
    assert "Copying blob 222222222222 [==============================] done" in text
    assert text.rstrip().splitlines()[-1].startswith("Copied 4 kB in ")


def test_pull_secrets_come_first_and_missing_ones_are_said(tmp_path: Path) -> None:
    from podbay.runtime.images.policy import pull_secrets  # noqa: PLC0415

    config = json.dumps({"auths": {"r.io": {"auth": "c2VjOnJldA=="}}}).encode()
    seen: list[tuple[str, str, str]] = []
    secrets = pull_secrets([{"name": "regcred"}, {"name": "gone"}, {"name": "plain"}],
                           {"regcred": {".dockerconfigjson": config}, "plain": {"user": b"x"}},
                           lambda *event: seen.append(event))
    assert secrets == [("secret regcred", {"r.io": {"auth": "c2VjOnJldA=="}})]
    assert seen[0] == ("Warning", "FailedToRetrieveImagePullSecret",
                       'secret "plain" has neither .dockerconfigjson nor .dockercfg')
    assert seen[1][2] == ("Unable to retrieve some image pull secrets (gone); attempting to pull the image may not "
                          "succeed.")
    own = tmp_path / "auth.json"
    own.write_text(json.dumps({"auths": {"r.io": {"auth": "b3duOmZpbGU="}}}))
    assert auth.find("r.io", "r.io/x", str(own), secrets) == (auth.Credentials("sec", "ret"), Path("secret regcred"))
    assert auth.find("r.io", "r.io/x", str(own))[0] == auth.Credentials("own", "file")
