#!/usr/bin/env bash
# The VM suite from the host, as every CI run takes it: no Vagrant, no Vagrant Cloud. As root:
#
#   vagrant/ci.sh [PYTEST ARGS...]        (passed to vagrant/run-tests.sh's first pass)
#
# Installs QEMU and mmdebstrap when missing, builds the guest image from Debian's mirror with
# vagrant/provision.sh applied (cached in $PODBAY_VM_CACHE, default /var/cache/podbay-vm, under a
# hash of every input of the recipe, so a changed recipe or dependency list builds a new one),
# boots it with plain QEMU and runs vagrant/run-tests.sh in a copy of this checkout; the guest's
# output and JUnit files come back in .ci/results/vm/. Exits with the suite's exit code.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${PODBAY_VM_CACHE:-/var/cache/podbay-vm}
PY=${PODBAY_PYTHON:-$REPO/.venv/bin/python}
[ "$(id -u)" -eq 0 ] || { echo "vagrant/ci.sh: run as root (it builds an image and boots a VM)" >&2; exit 1; }
[ -x "$PY" ] || PY=python3

started=$(date +%s)
missing=()
for package in qemu-system-x86 qemu-utils mmdebstrap fdisk e2fsprogs; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Every input of the image: the recipe, the provisioning, the Python dependencies.
KEY=$(cat "$REPO"/vagrant/image/* "$REPO/vagrant/provision.sh" "$REPO/vagrant/requirements.py" \
          "$REPO/pyproject.toml" | sha256sum | cut -c1-16)
IMAGE=$CACHE/image-$KEY
mkdir -p "$CACHE"
if [ -s "$IMAGE/disk.qcow2" ]; then
    echo "vagrant/ci.sh: image $KEY from the cache"
else
    echo "vagrant/ci.sh: building image $KEY (log: $CACHE/build-$KEY.log)"
    rm -rf "$CACHE"/image-* "$CACHE"/wheels-* "$CACHE"/build-*.log  # older recipes' images
    if ! { bash "$REPO/vagrant/image/wheels.sh" "$CACHE/wheels-$KEY" "$PY" &&
           bash "$REPO/vagrant/image/build.sh" "$IMAGE.partial" "$CACHE/wheels-$KEY"; } > "$CACHE/build-$KEY.log" 2>&1
    then
        tail -40 "$CACHE/build-$KEY.log"
        rm -rf "$IMAGE.partial"
        exit 1
    fi
    mv "$IMAGE.partial" "$IMAGE"
fi
built=$(date +%s)

rc=0
bash "$REPO/vagrant/qemu-run.sh" "$IMAGE" "$REPO" "bash vagrant/run-tests.sh $*" || rc=$?
echo "vagrant/ci.sh: image $((built - started)) s, VM and tests $(($(date +%s) - built)) s, exit code $rc"
exit "$rc"
