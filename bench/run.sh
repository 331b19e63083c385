#!/usr/bin/env bash
# Start-up benchmark: `podbay run --rm` of /bin/true against crun, runc, podman, bwrap and the
# kernel floor (unshare + chroot), on the same busybox rootfs, in one hyperfine run.
# Writes build/bench/report.md (medians and ratios) and prints it. Needs root.
#
# Everything runs through bench/isolated.sh: private mount and network namespaces where the
# host's cgroup trees are read-only (this host's hybrid cgroups; see there).
#
# A second run times a two-container pod with networking: podbay against `podman kube play`
# of the same YAML. podman's pods need a cgroup of their own, which this host cannot give
# without writing into its cgroup tree, so that row is reported as not runnable here (it
# runs in the cgroup v2 VM).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
source bench/common.sh
bench_prepare bench crun runc podman bubblewrap hyperfine

bench/isolated.sh "$OUT" env OUT="$OUT" PODMAN="$PODMAN" RUNS="$RUNS" bash -c '
set -euo pipefail
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$OUT/hyperfine.json" \
    -n "kernel floor (unshare -fpmniu + chroot)" "unshare -fpmniu chroot $OUT/rootfs /bin/true" \
    -n "bwrap --unshare-all" "bwrap --unshare-all --ro-bind $OUT/rootfs / --proc /proc --dev /dev /bin/true" \
    -n "crun run" "crun --cgroup-manager=disabled run --bundle $OUT/crun bench-crun" \
    -n "runc run" "runc --rootless=true run --bundle $OUT/runc bench-runc" \
    -n "podman run --rm" "$PODMAN run --rm --cgroups=disabled --network none localhost/bench:latest /bin/true" \
    -n "podbay run --rm" "$PWD/.venv/bin/podbay run -f $OUT/true.yaml --rm --attach"
pod=(-n "podbay: 2-container pod, networked" "$PWD/.venv/bin/podbay run -f $OUT/pod2.yaml --rm --attach")
if CONTAINERS_CONF=$OUT/containers-kube.conf $PODMAN kube play "$OUT/pod2.yaml" >"$OUT/kube-play.log" 2>&1; then
    CONTAINERS_CONF=$OUT/containers-kube.conf $PODMAN kube down "$OUT/pod2.yaml" >/dev/null 2>&1
    pod+=(-n "podman kube play + down" "env CONTAINERS_CONF=$OUT/containers-kube.conf sh -c \"$PODMAN kube play $OUT/pod2.yaml >/dev/null && $PODMAN kube down $OUT/pod2.yaml >/dev/null\"")
else
    CONTAINERS_CONF=$OUT/containers-kube.conf $PODMAN kube down "$OUT/pod2.yaml" >/dev/null 2>&1 || true
fi
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$OUT/hyperfine-pod.json" "${pod[@]}"
'
unshare -n sh -c 'ip link set lo up && exec "$0" bench/breakdown.py "$1"' .venv/bin/python "$OUT/true.yaml" \
    > "$OUT/breakdown.md"
.venv/bin/python bench/report.py "$OUT/hyperfine.json" "$OUT/breakdown.md" "$OUT/hyperfine-pod.json" \
    "$OUT/kube-play.log" | tee "$OUT/report.md"
