"""The pure parts of a launch: $(VAR) expansion, users, commands, env, runAsNonRoot, resolv.conf,
capabilities, seccomp profiles, id mappings and secure_join."""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path

import pytest

from podbay.runtime.idmap import HOST, IdMapping, _extents, read_ranges
from podbay.runtime.images.config import ImageConfig
from podbay.runtime.pod.config import ConfigError, PodObjects
from podbay.runtime.process import plan
from podbay.runtime.process.expand import expand
from podbay.runtime.process.users import UserError, resolve
from podbay.runtime.rootfs.securejoin import secure_join
from podbay.runtime.security.capabilities import CAPABILITY_NUMBERS, DEFAULT_CAPABILITIES, container_capabilities
from podbay.runtime.security.seccomp import SeccompError, compile_bpf, load_profile, runtime_default
from tests.unit.specutil import loaded


@pytest.mark.parametrize(("text", "want"), [
    ("$(A)", "1"), ("x$(A)y", "x1y"), ("$$(A)", "$(A)"), ("$$$(A)", "$1"), ("$(MISSING)", "$(MISSING)"),
    ("$A", "$A"), ("$", "$"), ("$(", "$("), ("$(A", "$(A"), ("a$$b", "a$b"), ("$(A)$(B)", "12"), ("", ""),
])
def test_expansion_follows_kubernetes(text: str, want: str) -> None:
    assert expand(text, {"A": "1", "B": "2"}) == want


@pytest.fixture
def etc(tmp_path: Path) -> str:
    (tmp_path / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n")
    (tmp_path / "group").write_text("root:x:0:\nappgrp:x:1001:\nwheel:x:10:app,other\nextra:x:2000:app\n")
    return str(tmp_path)


@pytest.mark.parametrize(("image_user", "run_as", "run_group", "want"), [
    ("", None, None, (0, 0, (0,), "/root")),
    ("app", None, None, (1000, 1001, (1001, 10, 2000), "/home/app")),
    ("1000", None, None, (1000, 1001, (1001, 10, 2000), "/home/app")),
    ("app:wheel", None, None, (1000, 10, (10, 2000), "/home/app")),
    ("4242", None, None, (4242, 0, (0,), "/")),
    ("4242:77", None, None, (4242, 77, (77,), "/")),
    ("app", 5000, None, (5000, 0, (0,), "/")),
    ("app", 1000, 3000, (1000, 3000, (3000, 10, 2000), "/home/app")),
])
def test_users_resolve_as_containerd(etc: str, image_user: str, run_as: int | None, run_group: int | None,
                                     want: tuple[int, int, tuple[int, ...], str]) -> None:
    who = resolve(image_user, run_as, run_group, supplemental=[], fs_group=None, etc=etc)
    assert (who.uid, who.gid, who.groups, who.home) == want


def test_supplemental_groups_and_fs_group_are_added(etc: str) -> None:
    who = resolve("", 1000, 3000, supplemental=[4000, 3000], fs_group=2000, etc=etc)
    assert who.groups == (3000, 10, 2000, 4000)


def test_unknown_user_or_group_names_are_errors(etc: str) -> None:
    with pytest.raises(UserError, match="unable to find user ghost: no matching entries in passwd file"):
        resolve("ghost", None, None, supplemental=[], fs_group=None, etc=etc)
    with pytest.raises(UserError, match="unable to find group nogrp"):
        resolve("app:nogrp", None, None, supplemental=[], fs_group=None, etc=etc)


POD = """
apiVersion: v1
kind: Pod
metadata: {name: p, uid: 11111111-2222-3333-4444-555555555555}
spec:
  containers:
  - name: c
    image: x
    {fields}
"""


def _pod(fields: str = "") -> tuple[object, object]:
    pod = loaded(POD.replace("{fields}", fields))
    return pod, pod.spec.containers[0]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("fields", "want"), [
    ("", ["/entry", "cmd1"]),
    ("command: [/own]", ["/own"]),
    ("args: [a1]", ["/entry", "a1"]),
    ("{command: [/own], args: [a1]}".strip("{}").replace(", ", "\n    "), ["/own", "a1"]),
])
def test_command_resolution_against_the_image(fields: str, want: list[str]) -> None:
    _, container = _pod(fields)
    image = ImageConfig(entrypoint=["/entry"], cmd=["cmd1"])
    assert plan.resolve_command(container, image) == want  # type: ignore[arg-type]


def _context(objects: PodObjects | None = None) -> plan.PodContext:
    return plan.PodContext(HOST, {}, {}, {}, objects or PodObjects())


def test_env_image_then_container_with_expansion() -> None:
    pod, container = _pod("env: [{name: A, value: one}, {name: B, value: $(A)-two}, {name: PATH, value: /x}]")
    own = plan.own_env(pod, container, _context())  # type: ignore[arg-type]
    assert own == {"A": "one", "B": "one-two", "PATH": "/x"}
    env = plan.container_env(container, ImageConfig(env=["PATH=/img", "IMG=1", "A=img"]), "host", own)  # type: ignore[arg-type]
    assert env == ["PATH=/x", "IMG=1", "A=one", "HOSTNAME=host", "B=one-two"]


def test_env_from_and_value_from_follow_the_kubelet() -> None:
    objects = PodObjects("default", {"cfg": {"K": b"v", "OTHER": b"o"}}, {"sec": {"pw": b"s3"}})
    pod, container = _pod("""envFrom: [{configMapRef: {name: cfg}, prefix: CM_}, {secretRef: {name: sec}}]
    env:
    - {name: FROM_CM, valueFrom: {configMapKeyRef: {name: cfg, key: K}}}
    - {name: NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}
    - {name: GONE, valueFrom: {configMapKeyRef: {name: nope, key: K, optional: true}}}
    - {name: BOTH, value: $(CM_K)-$(pw)}""")
    own = plan.own_env(pod, container, _context(objects))  # type: ignore[arg-type]
    assert own == {"CM_K": "v", "CM_OTHER": "o", "pw": "s3", "FROM_CM": "v", "NAME": "p",
                   "UID": "11111111-2222-3333-4444-555555555555", "BOTH": "v-s3"}


@pytest.mark.parametrize(("fields", "message"), [
    ("env: [{name: A, valueFrom: {configMapKeyRef: {name: nope, key: K}}}]", 'configmap "nope" not found'),
    ("env: [{name: A, valueFrom: {secretKeyRef: {name: sec, key: nokey}}}]",
     "couldn't find key nokey in Secret default/sec"),
])
def test_missing_references_are_the_kubelets_config_errors(fields: str, message: str) -> None:
    pod, container = _pod(fields)
    with pytest.raises(ConfigError, match=re.escape(message)):
        plan.own_env(pod, container, _context(PodObjects("default", {}, {"sec": {"pw": b""}})))  # type: ignore[arg-type]


@pytest.mark.parametrize(("fields", "image_user", "message"), [
    ("securityContext: {runAsNonRoot: true}", "", "image will run as root"),
    ("securityContext: {runAsNonRoot: true}", "0:0", "image will run as root"),
    ("securityContext: {runAsNonRoot: true}", "app", r"image has non-numeric user \(app\)"),
    ("securityContext: {runAsNonRoot: true, runAsUser: 0}", "1000", "container's runAsUser breaks non-root policy"),
])
def test_run_as_non_root_messages(fields: str, image_user: str, message: str) -> None:
    pod, container = _pod(fields)
    with pytest.raises(plan.PlanError, match=message) as caught:
        plan.check_run_as_non_root(pod, container, ImageConfig(user=image_user))  # type: ignore[arg-type]
    assert '(pod: "p_default(11111111-2222-3333-4444-555555555555)", container: c)' in str(caught.value)


@pytest.mark.parametrize(("fields", "image_user"), [
    ("securityContext: {runAsNonRoot: true}", "1000"),
    ("securityContext: {runAsNonRoot: true, runAsUser: 5}", "app"),
    ("", ""),
])
def test_run_as_non_root_allows(fields: str, image_user: str) -> None:
    pod, container = _pod(fields)
    plan.check_run_as_non_root(pod, container, ImageConfig(user=image_user))  # type: ignore[arg-type]


def test_resolv_conf_follows_dns_policy(tmp_path: Path) -> None:
    host = tmp_path / "resolv.conf"
    host.write_text("# comment\nnameserver 10.0.0.1\nsearch example.org\noptions ndots:2 edns0\n")
    pod = loaded(POD.replace("{fields}", "") + "  dnsConfig: {nameservers: [1.1.1.1], searches: [x.y], "
                                                 "options: [{name: ndots, value: '5'}, {name: rotate}]}\n")
    assert plan.resolv_conf(pod, str(host)).splitlines() == [  # type: ignore[arg-type]
        "nameserver 10.0.0.1", "nameserver 1.1.1.1", "search example.org x.y", "options edns0 ndots:5 rotate"]
    none = loaded(POD.replace("{fields}", "") + "  dnsPolicy: None\n  dnsConfig: {nameservers: [9.9.9.9]}\n")
    assert plan.resolv_conf(none, str(host)) == "nameserver 9.9.9.9\n"  # type: ignore[arg-type]


def test_resolv_conf_replaces_a_loopback_stub_with_its_upstream(tmp_path: Path) -> None:
    host, upstream = tmp_path / "resolv.conf", tmp_path / "upstream.conf"
    host.write_text("nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n")
    upstream.write_text("nameserver 192.168.1.1\nnameserver 127.0.0.1\nsearch lan\n")
    pod = loaded(POD.replace("{fields}", ""))
    assert plan.resolv_conf(pod, str(host), str(upstream)).splitlines() == [  # type: ignore[arg-type]
        "nameserver 192.168.1.1", "search lan", "options edns0 trust-ad"]
    host_network = loaded(POD.replace("{fields}", "") + "  hostNetwork: true\n")
    assert plan.resolv_conf(host_network, str(host), str(upstream)).startswith(  # type: ignore[arg-type]
        "nameserver 127.0.0.53\n")  # it shares the host's loopback
    upstream.unlink()
    assert plan.resolv_conf(pod, str(host), str(upstream)).splitlines()[0] == "search lan"  # type: ignore[arg-type]


def capability_mask(names: list[str]) -> int:
    """The hexadecimal mask /proc/PID/status shows for these capabilities."""
    return sum(1 << CAPABILITY_NUMBERS[name] for name in names)


def test_capabilities_as_containerd_tweaks_them() -> None:
    assert capability_mask(list(DEFAULT_CAPABILITIES)) == 0xA80425FB
    assert capability_mask(container_capabilities(["NET_ADMIN", "CAP_SYS_TIME"], [], False)) == 0xAA0435FB
    assert container_capabilities([], ["ALL"], False) == []
    assert container_capabilities(["NET_BIND_SERVICE"], ["ALL"], False) == ["NET_BIND_SERVICE"]
    assert "KILL" not in container_capabilities([], ["kill"], False)
    assert len(container_capabilities([], [], True, last_cap=40)) == 41
    assert len(container_capabilities(["ALL"], [], False, last_cap=40)) == 41
    with pytest.raises(ValueError, match="unknown capability 'BOGUS'"):
        container_capabilities(["BOGUS"], [], False)


def test_runtime_default_lifts_rules_for_granted_capabilities() -> None:
    default = runtime_default(list(DEFAULT_CAPABILITIES))
    allowed, denied = set(default.rules[0].names), set(default.rules[1].names)
    assert {"mount", "unshare", "keyctl", "bpf", "ptrace", "reboot", "init_module", "kexec_load"} <= denied
    assert {"read", "write", "execve", "chroot", "socket"} <= allowed and not allowed & denied
    admin = runtime_default([*DEFAULT_CAPABILITIES, "SYS_ADMIN", "SYS_PTRACE"])
    assert {"mount", "unshare", "ptrace"} <= set(admin.rules[0].names)
    assert "keyctl" in admin.rules[1].names  # some rules hold whatever the capabilities
    assert len(compile_bpf(default)) % 8 == 0


def test_localhost_profiles_in_the_docker_format(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1,
        "syscalls": [
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {"name": "chmod", "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 511, "op": "SCMP_CMP_EQ"}]},
            {"names": ["reboot"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_BOOT"]}},
            {"names": ["sync"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_KILL"]}},
        ]}))
    profile = load_profile(path, ["KILL"])
    assert [(r.names, r.errno) for r in profile.rules] == [(["mkdir"], 13), (["chmod"], errno.EPERM)]
    assert profile.rules[1].args == [(1, "EQ", 511, 0)]
    assert len(compile_bpf(profile)) > 0


@pytest.mark.parametrize(("content", "message"), [
    (None, "does not exist"), ("{", "seccomp profile"), ("[]", "no defaultAction"),
    ('{"defaultAction": "SCMP_ACT_WHAT"}', "unsupported action 'SCMP_ACT_WHAT'"),
    ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO", '
     '"args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ODD"}]}]}', "unsupported comparison"),
])
def test_bad_profiles_get_clear_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "p.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SeccompError, match=message):
        load_profile(path, [])


def test_subordinate_ranges_and_mappings(tmp_path: Path) -> None:
    subuid = tmp_path / "subuid"
    subuid.write_text("alice:100000:65536\n1001:300000:10\nbob:200000:65536\nbroken\n")
    assert read_ranges(str(subuid), "alice", 1000) == [(100000, 65536)]
    assert read_ranges(str(subuid), "carol", 1001) == [(300000, 10)]
    assert _extents(1000, [(100000, 65536)]) == ((0, 1000, 1), (1, 100000, 65535))
    assert _extents(1000, [(5, 10), (100, 70000)]) == ((0, 1000, 1), (1, 5, 10), (11, 100, 65525))
    mapping = IdMapping(((0, 1000, 1), (1, 100000, 65535)), ((0, 1000, 1), (1, 100000, 65535)))
    assert (mapping.to_host(0), mapping.to_host(1), mapping.to_host(65535), mapping.to_host(65536)) == \
        (1000, 100000, 165534, -1)
    assert mapping.key.startswith("1000-") and not mapping.identity


def test_secure_join_keeps_symlinks_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.symlink("/outside/target", root / "etc/abs")
    os.symlink("../../../../escape", root / "etc/rel")
    os.symlink("loop", root / "loop")
    assert secure_join(str(root), "/etc/abs") == str(root / "outside/target")
    assert secure_join(str(root), "/etc/rel") == str(root / "escape")
    assert secure_join(str(root), "/../../etc/x") == str(root / "etc/x")
    with pytest.raises(OSError, match="too many levels"):
        secure_join(str(root), "/loop")
