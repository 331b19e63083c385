#!/usr/bin/env bash
# The demo: set up podbay and take the demo pod through it. Needs no internet beyond
# Debian's and PyPI's package mirrors for the first set-up.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PODBAY=.venv/bin/podbay

echo "== podbay validate -f examples/demo-pod.yaml -o yaml"
$PODBAY validate -f examples/demo-pod.yaml -o yaml
echo
echo "== podbay explain pod.spec.initContainers.restartPolicy"
$PODBAY explain pod.spec.initContainers.restartPolicy
# Running the pod lands with the container launcher (issue 4); until then the demo
# shows the model every later step runs: the defaulted, validated pod.
