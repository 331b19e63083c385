#!/usr/bin/env bash
# bench/pull.sh's part inside bench/isolated.sh: the registry, the hyperfine run, podbay's breakdown.
set -euo pipefail
PY=$PWD/.venv/bin/python
PODBAY=$PWD/.venv/bin/podbay
read -r HOST PID < <($PY bench/pull_image.py serve "$OUT/registry" "$MB")
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true' EXIT
IMAGE=$HOST/bench/big:1
hyperfine -N --runs "$RUNS" --export-json "$OUT/hyperfine.json" \
    --prepare "rm -rf $OUT/skopeo-oci" \
    -n "skopeo copy to an OCI layout (no unpack)" \
    "skopeo copy -q --src-tls-verify=false docker://$IMAGE oci:$OUT/skopeo-oci:big" \
    --prepare "sh -c '$PODMAN rmi -af >/dev/null 2>&1 || true'" \
    -n "podman pull" "$PODMAN pull -q --tls-verify=false $IMAGE" \
    --prepare "sh -c '$PODBAY image prune -a >/dev/null 2>&1 || true'" \
    -n "podbay pull" "$PODBAY pull -q --tls-verify=false $IMAGE"
$PY bench/pull_image.py breakdown "$IMAGE" "$OUT/breakdown-store" "$RUNS" > "$OUT/breakdown.md"
