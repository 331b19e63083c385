#!/usr/bin/env bash
# The demo: set up podbay, build a small image locally (from Debian's busybox-static; no
# registry, no internet beyond the package mirrors for the first set-up), load it, and run
# a pod from it in the foreground. Root runs the pod in its own user namespace; so does an
# unprivileged user, with its /etc/subuid range.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PODBAY=.venv/bin/podbay
mkdir -p build

echo "== build the demo image from busybox-static"
.venv/bin/python tests/imagebuilder.py build/podbay-demo.tar --name localhost/podbay-demo:latest
echo "== podbay image load build/podbay-demo.tar"
$PODBAY image load build/podbay-demo.tar
echo "== podbay images"
$PODBAY images
echo
echo "== podbay run -f examples/hello-pod.yaml --rm --attach"
$PODBAY run -f examples/hello-pod.yaml --rm --attach
echo
echo "== podbay run -f examples/demo-pod.yaml --rm --attach (init container, web server, sidecar, shared volume)"
$PODBAY run -f examples/demo-pod.yaml --rm --attach
