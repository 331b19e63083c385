#!/usr/bin/env bash
# Wheels of podbay's dependencies (runtime and tests, as pyproject.toml lists them) into OUTDIR,
# built on the host, so the image installs them offline. Usage: vagrant/image/wheels.sh OUTDIR [PYTHON]
set -euo pipefail
OUT=${1:?usage: wheels.sh OUTDIR [PYTHON]}
PY=${2:-python3}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$OUT"
"$PY" "$REPO/vagrant/requirements.py" > "$OUT/requirements.txt"
"$PY" -m pip wheel -q --disable-pip-version-check -w "$OUT" -r "$OUT/requirements.txt"
echo "$(ls "$OUT" | grep -c '\.whl$') wheels in $OUT"
