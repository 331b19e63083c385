#!/usr/bin/env bash
# Build the test VM's disk from Debian's mirror: Debian 12 with systemd, a full cgroup v2
# hierarchy, and vagrant/provision.sh applied while building (so the CI VM and a Vagrant box made
# from it are provisioned exactly as a user's `vagrant up` is). Needs root, mmdebstrap, fdisk,
# e2fsprogs, qemu-utils. About 2 minutes.
#
#   vagrant/image/build.sh OUTDIR WHEELHOUSE
#
# OUTDIR gets disk.qcow2 (MBR, GRUB, ext4 labelled "root"), vmlinuz and initrd.img (for QEMU's
# direct kernel boot). WHEELHOUSE holds wheels of podbay's dependencies (vagrant/image/wheels.sh):
# the guest installs them offline, so no pip runs over the network inside the VM.
set -euo pipefail
OUT=$(realpath -m "${1:?usage: build.sh OUTDIR WHEELHOUSE}")
WHEELS=$(realpath "${2:?usage: build.sh OUTDIR WHEELHOUSE}")
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SIZE_MIB=${PODBAY_VM_DISK_MIB:-6144}

# The host's own apt sources (deb822 or one-line format): never a mirror name written here.
SOURCES=()
for file in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
    [ -s "$file" ] && grep -qE '^(deb |URIs:)' "$file" && SOURCES+=("$file")
done
[ ${#SOURCES[@]} -gt 0 ] || { echo "build.sh: no apt sources on this host" >&2; exit 1; }

BASE=linux-image-amd64,initramfs-tools,systemd-sysv,udev,dbus,openssh-server,kmod,grub-pc,e2fsprogs,less
PACKAGES="$BASE,$(bash "$REPO/vagrant/provision.sh" --packages | tr ' ' ',')"
ROOT="$OUT/rootfs"
rm -rf "$OUT"
mkdir -p "$OUT"
mmdebstrap --variant=minbase --include="$PACKAGES" \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook="bash $HERE/customize.sh \"\$1\" $REPO $WHEELS" \
    bookworm "$ROOT" "${SOURCES[@]}"
cp -L "$ROOT"/boot/vmlinuz-* "$OUT/vmlinuz"
cp -L "$ROOT"/boot/initrd.img-* "$OUT/initrd.img"

# GRUB for BIOS boot (a Vagrant box boots the disk), put in place by hand: the loop driver of
# these hosts has no partition support (no losetup -P, no grub-install on a loop device).
mkdir -p "$ROOT/boot/grub/i386-pc"
cp "$ROOT"/usr/lib/grub/i386-pc/*.mod "$ROOT"/usr/lib/grub/i386-pc/*.lst "$ROOT/boot/grub/i386-pc/"
cat > "$ROOT/boot/grub/grub.cfg" <<'CFG'
set timeout=0
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
search --no-floppy --label --set=root root
menuentry 'Debian GNU/Linux' {
  linux /vmlinuz root=LABEL=root ro console=tty0 console=ttyS0,115200
  initrd /initrd.img
}
CFG
chroot "$ROOT" grub-mkimage -O i386-pc -o /tmp/core.img -p '(hd0,msdos1)/boot/grub' \
    biosdisk part_msdos ext2 search_label
mv "$ROOT/tmp/core.img" "$OUT/core.img"

# One MBR partition from 1 MiB, its ext4 filled from the tree (mkfs.ext4 -d: no mount needed).
truncate -s "${SIZE_MIB}M" "$OUT/disk.raw"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$OUT/disk.raw"
mkfs.ext4 -q -L root -E offset=$((2048 * 512)) -d "$ROOT" "$OUT/disk.raw" $(((SIZE_MIB - 1) * 1024))k
dd if="$ROOT/usr/lib/grub/i386-pc/boot.img" of="$OUT/disk.raw" bs=440 count=1 conv=notrunc status=none
dd if="$OUT/core.img" of="$OUT/disk.raw" bs=512 seek=1 conv=notrunc status=none
qemu-img convert -O qcow2 "$OUT/disk.raw" "$OUT/disk.qcow2"
rm -rf "$OUT/disk.raw" "$OUT/core.img" "$ROOT"
ls -l "$OUT"
