#!/usr/bin/env bash
# Exec latency: `podbay exec POD -- true` against `podman exec`, `crun exec` and `runc exec` into the
# same kind of container (busybox `sleep`, no cgroup limits), in one hyperfine run. Needs root.
# Writes build/bench-exec/report.md and prints it. As bench/run.sh: everything runs through
# bench/isolated.sh (private mount and network namespaces, the host's cgroup trees read-only).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-50}
source bench/common.sh
bench_prepare bench-exec crun runc podman hyperfine

bench/isolated.sh "$OUT" env OUT="$OUT" PODMAN="$PODMAN" RUNS="$RUNS" PODBAY="$PWD/.venv/bin/podbay" bash -c '
set -euo pipefail
cleanup() {
    crun --cgroup-manager=disabled kill bench-crun-sleep KILL 2>/dev/null || true
    crun --cgroup-manager=disabled delete -f bench-crun-sleep 2>/dev/null || true
    runc --rootless=true delete -f bench-runc-sleep 2>/dev/null || true
    $PODMAN rm -f -t 0 bench-sleeper >/dev/null 2>&1 || true
    $PODBAY delete pod sleeper --now >/dev/null 2>&1 || true
    $PODBAY supervisor stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
crun --cgroup-manager=disabled run -d --bundle "$OUT/crun-sleep" bench-crun-sleep
runc --rootless=true run -d --bundle "$OUT/runc-sleep" bench-runc-sleep </dev/null >/dev/null 2>&1
$PODMAN run -d --name bench-sleeper --cgroups=disabled --network none localhost/bench:latest sleep 3600 >/dev/null
$PODBAY run -f "$OUT/sleeper.yaml" --wait >/dev/null
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$OUT/hyperfine.json" \
    -n "crun exec" "crun --cgroup-manager=disabled exec bench-crun-sleep /bin/true" \
    -n "runc exec" "runc --rootless=true exec bench-runc-sleep /bin/true" \
    -n "podman exec" "$PODMAN exec bench-sleeper /bin/true" \
    -n "podbay exec" "$PODBAY exec sleeper -- /bin/true"
'
BENCH_TITLE="Exec of /bin/true into a running container" .venv/bin/python bench/report.py "$OUT/hyperfine.json" \
    | tee "$OUT/report.md"
