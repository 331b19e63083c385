#!/usr/bin/env bash
# Supervision benchmark: memory per idle pod (1, 10, 50 pods), supervisor CPU with 50 probed pods,
# and log throughput, podbay beside podman/conmon in one run (see bench/lifecycle.py). Needs root.
# As bench/run.sh: through bench/isolated.sh (the host's cgroup trees read-only).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
bench_prepare bench-lifecycle crun podman catatonit
SECTIONS="${SECTIONS:-memory cpu logs}" bench/isolated.sh "$OUT" .venv/bin/python bench/lifecycle.py "$OUT"
