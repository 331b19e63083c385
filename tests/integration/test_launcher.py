"""The container launcher, asserted from inside real containers, as root and rootless."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest

from podbay.runtime.rootfs.defaults import MASKED_PATHS
from tests.imagebuilder import Entry, build_image, busybox_layer
from tests.podbay_harness import Podbay, ensure_test_user, host_mounts_under, pod, shell, user_store

DEFAULT_CAPS = 0xA80425FB  # containerd's 14 default capabilities


def status_field(output: str, name: str) -> str:
    for line in output.splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{name} not in output:\n{output}")


def test_exit_code_and_output_are_the_containers(podbay: Podbay) -> None:
    done = podbay.run(shell("echo out; echo err >&2; exit 7"))
    assert (done.returncode, done.stdout, done.stderr.strip()) == (7, "out\n", "err")


def test_root_capabilities_match_kubernetes_docs(podbay: Podbay) -> None:
    done = podbay.run(shell("cat /proc/self/status"))
    assert done.returncode == 0, done.stderr
    for name in ("CapPrm", "CapEff", "CapBnd"):
        assert int(status_field(done.stdout, name), 16) == DEFAULT_CAPS
    assert int(status_field(done.stdout, "CapInh"), 16) == 0
    assert int(status_field(done.stdout, "CapAmb"), 16) == 0
    assert status_field(done.stdout, "NoNewPrivs") == "1"
    assert status_field(done.stdout, "Seccomp") == "2"


def test_added_capabilities_and_non_root_user(podbay: Podbay) -> None:
    # The Kubernetes docs' example: add NET_ADMIN and SYS_TIME -> 00000000aa0435fb.
    added = podbay.run(shell("cat /proc/self/status", security={"capabilities": {"add": ["NET_ADMIN", "SYS_TIME"]}}))
    assert int(status_field(added.stdout, "CapEff"), 16) == 0xAA0435FB, added.stderr
    # A non-root user keeps the bounding set but has empty permitted and effective sets.
    user = podbay.run(shell("cat /proc/self/status; id -u", security={"runAsUser": 1000}))
    assert int(status_field(user.stdout, "CapPrm"), 16) == 0
    assert int(status_field(user.stdout, "CapEff"), 16) == 0
    assert int(status_field(user.stdout, "CapBnd"), 16) == DEFAULT_CAPS
    assert user.stdout.strip().endswith("1000")


def test_drop_all_leaves_no_capability(podbay: Podbay) -> None:
    done = podbay.run(shell("cat /proc/self/status", security={"capabilities": {"drop": ["ALL"]}}))
    assert int(status_field(done.stdout, "CapBnd"), 16) == 0
    assert int(status_field(done.stdout, "CapEff"), 16) == 0
    only = podbay.run(shell("cat /proc/self/status",
                            security={"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}))
    assert int(status_field(only.stdout, "CapBnd"), 16) == 1 << 10


def test_allow_privilege_escalation_clears_no_new_privs(podbay: Podbay) -> None:
    done = podbay.run(shell("grep NoNewPrivs /proc/self/status", security={"allowPrivilegeEscalation": True}))
    assert status_field(done.stdout, "NoNewPrivs") == "0", done.stderr


def test_user_namespace_maps_65536_ids(podbay: Podbay) -> None:
    done = podbay.run(shell("cat /proc/self/uid_map /proc/self/gid_map"))
    extents = [tuple(int(n) for n in line.split()) for line in done.stdout.splitlines()]
    assert done.returncode == 0, done.stderr
    uid_extents = extents[: len(extents) // 2]
    assert uid_extents[0][0] == 0 and sum(e[2] for e in uid_extents) == 65536
    if podbay.uid:
        assert uid_extents[0][1] == podbay.uid  # container root is the user
    else:
        assert uid_extents[0][1] >= 65536  # never a host system id


@pytest.mark.root
def test_host_users_true_uses_the_host_ids(root_podbay: Podbay) -> None:
    done = root_podbay.run(shell("cat /proc/self/uid_map", spec={"hostUsers": True}))
    assert done.stdout.split() == ["0", "0", "4294967295"], done.stderr


def test_namespaces_hostname_and_processes(podbay: Podbay) -> None:
    done = podbay.run(shell("hostname; ps -o pid,comm | tail -n +2; readlink /proc/self/ns/net /proc/self/ns/ipc",
                            spec={"hostname": "probe-host"}))
    lines = done.stdout.split("\n")
    assert lines[0] == "probe-host", done.stderr
    pids = [int(line.split()[0]) for line in lines[1:] if line.strip() and line.split()[0].isdigit()]
    assert 1 in pids and max(pids) < 20, "host processes are visible"
    assert os.readlink("/proc/self/ns/net") not in done.stdout
    assert os.readlink("/proc/self/ns/ipc") not in done.stdout


def test_network_loopback_up_and_eth0(podbay: Podbay) -> None:
    done = podbay.run(shell("ls /sys/class/net | tr '\\n' ' '; echo; cat /sys/class/net/lo/operstate"))
    interfaces, lo_state = done.stdout.splitlines()
    assert lo_state == "unknown", done.stdout  # loopback reports unknown when up
    assert interfaces.split() == ["eth0", "lo"]  # rootless too: eth0 on the user's rootless network


def test_mounts_proc_sys_dev(podbay: Podbay) -> None:
    done = podbay.run(shell("cat /proc/self/mountinfo; echo ---; ls /dev; echo ---; ls -l /dev/fd /dev/ptmx"))
    mountinfo, devices, links = done.stdout.split("---\n")
    by_point = {line.split()[4]: line for line in mountinfo.splitlines()}
    assert " - overlay " in by_point["/"], by_point["/"]
    assert " - proc " in by_point["/proc"]
    assert " - tmpfs " in by_point["/dev"] and "size=65536k" in by_point["/dev"] and "mode=755" in by_point["/dev"]
    assert " - devpts " in by_point["/dev/pts"] and "ptmxmode=666" in by_point["/dev/pts"]
    assert " - tmpfs " in by_point["/dev/shm"] and " - mqueue " in by_point["/dev/mqueue"]
    assert " ro," in by_point["/sys"] or " ro " in by_point["/sys"].split(" - ")[0] + " "
    for path in ("/proc/sys", "/proc/sysrq-trigger", "/proc/bus", "/proc/irq", "/proc/fs"):
        if not os.path.exists(path):
            continue  # this kernel has no such file to protect
        assert path in by_point and by_point[path].split()[5].startswith("ro"), path
    for path in ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf"):
        assert path in by_point, path
    assert set(devices.split()) >= {"null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue",
                                    "fd", "stdin", "stdout", "stderr", "ptmx"}
    assert "/proc/self/fd" in links and "pts/ptmx" in links


def test_masked_paths_are_empty(podbay: Podbay) -> None:
    present = [path for path in MASKED_PATHS if os.path.exists(path)]
    assert present, "this kernel has none of the masked paths: nothing to check"
    script = "; ".join(f"if [ -d {p} ]; then ls -A {p} | wc -l; else wc -c < {p}; fi" for p in present)
    done = podbay.run(shell(script))
    assert done.stdout.split() == ["0"] * len(present), (present, done.stdout, done.stderr)


def test_proc_sys_is_read_only(podbay: Podbay) -> None:
    done = podbay.run(shell("echo 1 > /proc/sys/kernel/domainname"))
    assert done.returncode != 0 and "Read-only file system" in done.stderr


def test_read_only_root_filesystem(podbay: Podbay) -> None:
    done = podbay.run(shell("touch /newfile", security={"readOnlyRootFilesystem": True}))
    assert done.returncode != 0 and "Read-only file system" in done.stderr
    writable = podbay.run(shell("touch /newfile && echo wrote"))
    assert writable.stdout.strip() == "wrote", writable.stderr


def test_image_user_and_workdir(podbay: Podbay) -> None:
    done = podbay.run(shell("id; pwd", image="localhost/probe-app:latest"))
    assert done.stdout.splitlines() == ["uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)",
                                        "/home/app"], done.stderr


def test_run_as_group_and_supplemental_groups(podbay: Podbay) -> None:
    done = podbay.run(shell("id -u; id -g; id -G", security={"runAsUser": 1234, "runAsGroup": 5678},
                            pod_security={"supplementalGroups": [4000], "fsGroup": 4001}))
    assert done.stdout.split("\n")[:3] == ["1234", "5678", "5678 4000 4001"], done.stdout + done.stderr


def test_run_as_non_root_refuses_a_root_image(podbay: Podbay) -> None:
    done = podbay.run(shell("true", security={"runAsNonRoot": True}))
    assert done.returncode == 125
    assert re.search(r'container has runAsNonRoot and image will run as root \(pod: "probe_default\([0-9a-f-]{36}\)", '
                     r"container: main\)", done.stderr), done.stderr
    named = podbay.run(shell("id -u", image="localhost/probe-app:latest", security={"runAsNonRoot": True}))
    assert "container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root" \
        in named.stderr
    ok = podbay.run(shell("id -u", image="localhost/probe-app:latest",
                          security={"runAsNonRoot": True, "runAsUser": 1000}))
    assert ok.returncode == 0 and ok.stdout.strip() == "1000"
    zero = podbay.run(shell("true", security={"runAsNonRoot": True, "runAsUser": 0}))
    assert "container's runAsUser breaks non-root policy" in zero.stderr


def test_command_args_and_env_expansion(podbay: Podbay) -> None:
    # command and args are expanded too; single quotes keep sh from substituting what is left.
    manifest = pod(command=["sh", "-c", "echo \"$1 $GREETING\" '$(NAME)' '$$(NAME)' '$(UNSET)'; echo PATH=$PATH", "sh"],
                   args=["$(GREETING)-arg"],
                   env=[{"name": "NAME", "value": "world"}, {"name": "GREETING", "value": "hello $(NAME)"}])
    done = podbay.run(manifest)
    first, second = done.stdout.splitlines()
    assert first == "hello world-arg hello world world $(NAME) $(UNSET)", done.stderr
    assert second.startswith("PATH=/usr/local/sbin")


def test_args_replace_the_image_cmd(podbay: Podbay) -> None:
    # The probe image's Cmd is ["sh"]; args alone replace it; command drops it.
    done = podbay.run(pod(args=["-c", "echo from-args"]))  # no ENTRYPOINT: the args are the whole command
    assert done.returncode == 125 and 'exec: "-c": executable file not found' in done.stderr
    done = podbay.run(pod(command=["echo"], args=["a", "b"]))
    assert done.stdout == "a b\n", done.stderr


def test_seccomp_runtime_default_denies(podbay: Podbay) -> None:
    for attempt in ("keyctl", "unshare-user", "mount"):
        done = podbay.run(pod(command=["/probe", attempt]))
        assert done.stdout.strip() == "denied EPERM", (attempt, done.stdout, done.stderr)


def test_seccomp_unconfined_loads_no_filter(podbay: Podbay) -> None:
    done = podbay.run(shell("grep Seccomp: /proc/self/status", security={"seccompProfile": {"type": "Unconfined"}}))
    assert status_field(done.stdout, "Seccomp") == "0"


def test_seccomp_localhost_profile_denies_mkdir(podbay: Podbay) -> None:
    profiles = podbay.data_dir / "seccomp"
    profiles.mkdir(exist_ok=True)
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
    (profiles / "no-mkdir.json").write_text(json.dumps(profile))
    os.chown(profiles, podbay.uid, podbay.gid)
    done = podbay.run(shell("mkdir /tmp/x", security={"seccompProfile": {"type": "Localhost",
                                                                         "localhostProfile": "no-mkdir.json"}}))
    assert done.returncode != 0 and "Permission denied" in done.stderr
    missing = podbay.run(shell("true", security={"seccompProfile": {"type": "Localhost",
                                                                    "localhostProfile": "missing.json"}}))
    assert missing.returncode == 125 and "missing.json does not exist" in missing.stderr


@pytest.mark.root
def test_privileged_gets_every_capability_and_no_filter(root_podbay: Podbay) -> None:
    done = root_podbay.run(shell("cat /proc/self/status; cat /proc/self/mountinfo", security={"privileged": True}))
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    assert int(status_field(done.stdout, "CapEff"), 16) == (1 << (last + 1)) - 1
    assert status_field(done.stdout, "Seccomp") == "0"
    sys_line = next(line for line in done.stdout.splitlines() if line.split()[4:5] == ["/sys"])
    assert sys_line.split()[5].startswith("rw")


def test_setup_errors_come_home_with_the_stage(podbay: Podbay) -> None:
    done = podbay.run(pod(command=["/no/such/binary"]))
    assert done.returncode == 125
    assert 'container main: exec: exec: "/no/such/binary": no such file or directory' in done.stderr
    done = podbay.run(pod(command=["nonesuch"]))
    assert 'exec: "nonesuch": executable file not found in $PATH' in done.stderr
    done = podbay.run(shell("true", image="localhost/probe-app:latest", workingDir="/root/private",
                            security={"runAsUser": 1000}))
    assert done.returncode == 125 and "working directory" in done.stderr, done.stderr


def test_missing_image_says_how_to_get_it(podbay: Podbay) -> None:
    done = podbay.run(pod(image="localhost/absent:1"))
    assert done.returncode == 125
    assert 'ErrImageNeverPull: Container image "localhost/absent:1" is not present with pull policy of Never' \
        in done.stderr


def test_nothing_is_left_behind(podbay: Podbay) -> None:
    before = set(os.listdir("/proc"))
    podbay.run(shell("sleep 0.1; exit 2"))
    podbay.run(pod(command=["/no/such/binary"]))
    assert podbay.containers_left() == []
    assert host_mounts_under(podbay.data_dir) == []
    new = {p for p in set(os.listdir("/proc")) - before if p.isdigit()}
    alive = [p for p in new if Path(f"/proc/{p}").exists() and "podbay" in Path(f"/proc/{p}/cmdline").read_text()]
    assert alive == []


def test_copy_fallback_when_overlay_is_not_used(podbay: Podbay) -> None:
    done = podbay.run(shell("cat /proc/self/mountinfo | awk '$5 == \"/\"'; touch /x && echo ok"), "--rootfs", "copy")
    assert " - overlay " not in done.stdout and "ok" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize(("name", "number"), [("TERM", signal.SIGTERM), ("INT", signal.SIGINT)])
def test_signals_are_forwarded_to_the_container(podbay: Podbay, name: str, number: int) -> None:
    # SIGTERM from a supervisor, SIGINT from Ctrl-C: the container's trap sees the same signal.
    runner = podbay.start(shell(f"trap 'echo got-{name}; exit {128 + number}' {name}; echo ready; "
                                "while true; do sleep 0.1; done"))
    assert runner.stdout is not None
    assert runner.stdout.readline().strip() == "ready"
    runner.send_signal(number)
    out, err = runner.communicate(timeout=30)
    assert runner.returncode == 128 + number and f"got-{name}" in out, err


def test_grace_period_ends_in_sigkill(podbay: Podbay) -> None:
    # sh as pid 1 ignores SIGTERM without a trap: after the grace period it is killed.
    runner = podbay.start(shell("echo ready; while true; do sleep 0.1; done",
                                spec={"terminationGracePeriodSeconds": 1}))
    assert runner.stdout is not None
    assert runner.stdout.readline().strip() == "ready"
    runner.send_signal(signal.SIGTERM)
    runner.communicate(timeout=30)
    assert runner.returncode == 128 + signal.SIGKILL


def test_personality_allows_only_its_harmless_values(podbay: Podbay) -> None:
    # busybox `linux32` calls personality(PER_LINUX32 = 8): allowed. The probe asks ADDR_NO_RANDOMIZE: denied.
    allowed = podbay.run(pod(command=["linux32", "true"]))
    assert allowed.returncode == 0, allowed.stderr
    denied = podbay.run(pod(command=["/probe", "personality"]))
    assert denied.stdout.strip() == "denied ENOSYS"


def test_device_nodes_in_a_layer_are_skipped_where_they_cannot_be_made(podbay: Podbay, workdir: Path) -> None:
    archive = workdir / f"devices-{podbay.uid}.tar"
    build_image(archive, "localhost/devices:1", [busybox_layer([Entry("mydev", "chardev")])])
    loaded = podbay.cli("image", "load", str(podbay.give(archive)))
    assert loaded.returncode == 0, loaded.stderr
    # Both stores unpack inside a user namespace, where mknod of a real device is refused.
    assert "skipped 1 device node(s) that a user namespace cannot create (mydev)" in loaded.stderr
    done = podbay.run(shell("ls /mydev", image="localhost/devices:1"))
    assert done.returncode != 0 and "No such file" in done.stderr


@pytest.mark.rootless
@pytest.mark.images
def test_a_user_without_subordinate_ids_gets_one_id_and_a_warning(workdir: Path, probe_image: Path,
                                                                  portable_podbay: Path) -> None:
    home = workdir / "noids"
    uid, gid = ensure_test_user(home, "podbay-noids", ranges=False)
    store = user_store(home, uid, gid, portable_podbay)
    assert store.cli("image", "load", str(store.give(probe_image))).returncode == 0
    done = store.run(shell("id -u; cat /proc/self/uid_map"))
    assert done.returncode == 0, done.stderr
    assert "has no range in /etc/subuid" in done.stderr and "usermod --add-subuids" in done.stderr
    assert done.stdout.split() == ["0", "0", str(uid), "1"]


def test_bad_input_gets_a_clear_error_and_leaves_nothing(podbay: Podbay) -> None:
    missing = podbay.cli("run", "-f", "/no/such/pod.yaml", "--rm", "--attach")
    assert missing.returncode == 125 and "/no/such/pod.yaml" in missing.stderr and "Traceback" not in missing.stderr
    invalid = podbay.run("apiVersion: v1\nkind: Pod\nmetadata: {name: BAD_NAME}\nspec: {containers: []}\n")
    assert invalid.returncode == 125 and "metadata.name" in invalid.stderr and "Traceback" not in invalid.stderr
    missing_config = podbay.run(pod(command=["true"], env=[{"name": "A", "valueFrom": {
        "configMapKeyRef": {"name": "absent", "key": "k"}}}]))
    assert missing_config.returncode == 125
    assert 'container main: CreateContainerConfigError: configmap "absent" not found' in missing_config.stderr
    empty = podbay.cli("run", "-f", "/dev/null")
    assert empty.returncode == 125 and "needs exactly one Pod (found 0)" in empty.stderr
    bad_image = podbay.cli("image", "load", "/etc/hostname")
    assert bad_image.returncode == 125 and "not an image archive" in bad_image.stderr


def test_the_container_inherits_only_stdio(podbay: Podbay) -> None:
    # Kubernetes expansion turns $$ into $: write $$$$ for $$. `; true` keeps sh from exec-ing ls.
    done = podbay.run(shell("ls /proc/$$$$/fd; true"))
    assert done.stdout.split() == ["0", "1", "2"], done.stdout + done.stderr


@pytest.mark.rootless
@pytest.mark.images
def test_privileged_rootless_says_what_it_cannot_give(rootless_podbay: Podbay) -> None:
    done = rootless_podbay.run(shell("grep CapEff /proc/self/status", security={"privileged": True}))
    assert done.returncode == 0, done.stderr
    assert "privileged in a rootless pod gives every capability inside the user namespace only" in done.stderr
