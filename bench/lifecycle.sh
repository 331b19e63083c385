#!/usr/bin/env bash
# Supervision benchmark: memory per idle pod (1, 10, 50 pods), supervisor CPU with 50 probed pods,
# and log throughput, podbay beside podman/conmon in one run (see bench/lifecycle.py). Needs root.
# As bench/run.sh: through bench/isolated.sh (the host's cgroup trees read-only).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
need=()
for pkg in crun podman catatonit; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if [ "${#need[@]}" -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
bash scripts/setup.sh
OUT=$PWD/build/bench-lifecycle
rm -rf "$OUT"
mkdir -p "$OUT"
.venv/bin/python bench/prepare.py "$OUT"
export PODBAY_DATA_DIR=$OUT/podbay/data PODBAY_RUN_DIR=$OUT/podbay/run CONTAINERS_CONF=$OUT/containers.conf
export PODMAN="podman --root $OUT/podman/root --runroot $OUT/podman/run --storage-driver overlay"
.venv/bin/podbay image load "$OUT/image.tar" >/dev/null
$PODMAN load -q -i "$OUT/image.tar" >/dev/null
SECTIONS="${SECTIONS:-memory cpu logs}" bench/isolated.sh "$OUT" .venv/bin/python bench/lifecycle.py "$OUT"
