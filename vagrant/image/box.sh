#!/usr/bin/env bash
# The test VM's image as a vagrant-libvirt box (for the Vagrantfile's own check in CI).
# Usage: vagrant/image/box.sh IMAGEDIR OUT.box
set -euo pipefail
IMAGE=${1:?usage: box.sh IMAGEDIR OUT.box}
BOX=${2:?usage: box.sh IMAGEDIR OUT.box}
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/podbay-box.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp --sparse=always "$IMAGE/disk.qcow2" "$WORK/box.img"
bytes=$(qemu-img info --output=json "$WORK/box.img" | python3 -c 'import json, sys; print(json.load(sys.stdin)["virtual-size"])')
printf '{"provider": "libvirt", "format": "qcow2", "virtual_size": %d}\n' $(((bytes + (1 << 30) - 1) >> 30)) \
    > "$WORK/metadata.json"
printf 'Vagrant.configure("2") do |config|\n  config.vm.provider :libvirt do |libvirt|\n    libvirt.disk_bus = "virtio"\n  end\nend\n' \
    > "$WORK/Vagrantfile"
tar -C "$WORK" -cSf "$BOX.partial" metadata.json Vagrantfile box.img
mv "$BOX.partial" "$BOX"
