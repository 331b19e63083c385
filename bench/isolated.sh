#!/usr/bin/env bash
# bench/isolated.sh OUT CMD...: run CMD (as root) where the benchmarks may run podbay, crun, runc
# and podman side by side without touching the host.
#
# This host has hybrid cgroups, which crun 1.8 refuses and which none of these tools may write
# into: CMD runs inside a private mount namespace where the cgroup v2 controllers file is hidden
# (crun then accepts the host; an empty file in OUT is bound over it) and every cgroup mount is
# read-only (so runc, in its rootless cgroup mode, and podman, with --cgroups=disabled, cannot
# touch the host's hierarchy), and inside a network namespace of its own with loopback up
# (podbay's pods get podbay0 and veths there). The host's mounts and network are never changed.
set -euo pipefail
OUT=$1
shift
exec unshare -m -n --propagation private bash -c '
set -euo pipefail
OUT=$0
ip link set lo up
touch "$OUT/empty"
controllers=$(awk "\$9 == \"cgroup2\" {print \$5}" /proc/self/mountinfo | head -1)
[ -n "$controllers" ] && mount --bind "$OUT/empty" "$controllers/cgroup.controllers"
for m in $(awk "\$9 == \"cgroup\" || \$9 == \"cgroup2\" {print \$5}" /proc/self/mountinfo); do
    mount -o remount,bind,ro "$m"
done
exec "$@"' "$OUT" "$@"
