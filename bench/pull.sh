#!/usr/bin/env bash
# Pull benchmark: an image of ~MB (default 300) random megabytes in gzip layers, served by Debian's
# docker-registry on loopback, pulled into an empty store by `podbay pull` (download, verify, unpack),
# `podman pull` (the same, into its overlay storage) and `skopeo copy` to an OCI layout (download and
# verify only, no unpack), in one hyperfine run; then podbay's pull split into download and unpack.
# Needs root; runs in bench/isolated.sh's private mount and network namespaces. Writes
# build/bench-pull/report.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
MB=${MB:-300}
source bench/common.sh
bench_prepare bench-pull skopeo podman hyperfine docker-registry

bench/isolated.sh "$OUT" env OUT="$OUT" PODMAN="$PODMAN" RUNS="$RUNS" MB="$MB" bash bench/pull_run.sh
.venv/bin/python - "$OUT" <<'PY' | tee "$OUT/report.md"
import json, os, subprocess, sys
out = sys.argv[1]
env = dict(os.environ, BENCH_TITLE=f"Pull of a {os.environ.get('MB', '300')} MB image from a loopback registry")
print(subprocess.run([".venv/bin/python", "bench/report.py", f"{out}/hyperfine.json", f"{out}/breakdown.md"],
                     env=env, capture_output=True, text=True, check=True).stdout)
PY
