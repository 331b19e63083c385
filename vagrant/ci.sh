#!/usr/bin/env bash
# The VM suite from the host, as every CI run takes it: no Vagrant, no Vagrant Cloud. As root:
#
#   vagrant/ci.sh [PYTEST ARGS...]        (passed to vagrant/run-tests.sh's first pass)
#
# Installs QEMU and mmdebstrap when missing, builds the guest image from Debian's mirror with
# vagrant/provision.sh applied (cached in $PODBAY_VM_CACHE, default /var/cache/podbay-vm, under a
# hash of every input of the recipe, so a changed recipe or dependency list builds a new one),
# boots it with plain QEMU and runs vagrant/run-tests.sh in a copy of this checkout; the guest's
# output and JUnit files come back in .ci/results/vm/; then proves the Vagrantfile itself with a
# real `vagrant up` of the same image as a local box (vagrant/vagrant-check.sh;
# PODBAY_SKIP_VAGRANT=1 leaves that out). Exits non-zero when either fails.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${PODBAY_VM_CACHE:-/var/cache/podbay-vm}
PY=${PODBAY_PYTHON:-$REPO/.venv/bin/python}
[ "$(id -u)" -eq 0 ] || { echo "vagrant/ci.sh: run as root (it builds an image and boots a VM)" >&2; exit 1; }
[ -x "$PY" ] || PY=python3

started=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
missing=()
for package in qemu-system-x86 qemu-utils mmdebstrap fdisk e2fsprogs vagrant vagrant-libvirt \
               libvirt-daemon-system libvirt-clients dnsmasq-base; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    if ! apt-get install -s -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
        # These machines carry a libarchive13 newer than the mirror's libarchive-tools, which vagrant
        # needs: take the mirror's pair.
        missing+=("libarchive13=$(apt-cache policy libarchive-tools | awk '/Candidate:/{print $2}')")
    fi
    apt-get install -y -qq --no-install-recommends --allow-downgrades "${missing[@]}" >/dev/null
fi

# Every input of the image: the recipe, the provisioning, the Python dependencies, Vagrant's key.
KEY=$(cat "$REPO"/vagrant/image/* "$REPO/vagrant/provision.sh" "$REPO/vagrant/requirements.py" \
          "$REPO/pyproject.toml" /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub \
          | sha256sum | cut -c1-16)
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
tested=$(date +%s)
echo "vagrant/ci.sh: image $((built - started)) s, VM and tests $((tested - built)) s, exit code $rc"
if [ "${PODBAY_SKIP_VAGRANT:-}" = 1 ]; then
    echo "vagrant/ci.sh: the Vagrantfile check left out (PODBAY_SKIP_VAGRANT=1)"
else
    bash "$REPO/vagrant/vagrant-check.sh" "$IMAGE" || rc=1
    echo "vagrant/ci.sh: the Vagrantfile check $(($(date +%s) - tested)) s"
fi
exit "$rc"
