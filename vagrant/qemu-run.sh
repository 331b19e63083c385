#!/usr/bin/env bash
# Boot the test VM image with plain QEMU, run COMMAND in a copy of the checkout inside it, power
# off; exit with COMMAND's exit code. The checkout is shared read-write (virtiofs, else 9p) so the
# guest leaves its output and results in CHECKOUT/.ci/results/vm/.
#
#   vagrant/qemu-run.sh IMAGEDIR CHECKOUT 'COMMAND'
#
# KVM when the host has a hardware one (kvm_intel or kvm_amd loaded); otherwise software
# emulation (TCG): these development machines' /dev/kvm is a paravirtual KVM that cannot boot a
# stock kernel. PODBAY_VM_TIMEOUT (seconds, default 3600) ends a hung guest; PODBAY_VM_MEMORY
# (MiB, 3072) and PODBAY_VM_CPUS (2) size it. The serial console is copied to stdout.
set -uo pipefail
IMAGE=$(realpath "${1:?usage: qemu-run.sh IMAGEDIR CHECKOUT COMMAND}")
CHECKOUT=$(realpath "${2:?usage: qemu-run.sh IMAGEDIR CHECKOUT COMMAND}")
COMMAND=${3:?usage: qemu-run.sh IMAGEDIR CHECKOUT COMMAND}
MEMORY=${PODBAY_VM_MEMORY:-3072}
CPUS=${PODBAY_VM_CPUS:-2}
LIMIT=${PODBAY_VM_TIMEOUT:-3600}

RESULTS=$CHECKOUT/.ci/results/vm
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
printf '%s\n' "$COMMAND" > "$RESULTS/cmd.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/podbay-vm.XXXXXX")
VIRTIOFSD=""
cleanup() {
    if [ -n "$VIRTIOFSD" ]; then
        kill "$VIRTIOFSD" 2>/dev/null
        wait "$VIRTIOFSD" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# A throw-away overlay: the cached image is never written.
qemu-img create -q -f qcow2 -F qcow2 -b "$IMAGE/disk.qcow2" "$WORK/overlay.qcow2"
ARGS=(-nodefaults -no-user-config -display none -no-reboot -monitor none -serial stdio
      -m "$MEMORY" -smp "$CPUS" -nic none -device virtio-rng-pci
      -drive "file=$WORK/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe"
      -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.img"
      -append "root=LABEL=root ro console=ttyS0,115200 quiet podbay.ci")
if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
    ARGS+=(-machine q35,accel=kvm -cpu host)
    ACCEL=kvm
else
    ARGS+=(-machine q35,accel=tcg -cpu max)
    ACCEL="tcg (software emulation: no hardware KVM here)"
fi
if [ -x /usr/lib/qemu/virtiofsd ]; then
    # virtiofs: several times faster than 9p; the guest's memory must be shareable with virtiofsd.
    /usr/lib/qemu/virtiofsd --socket-path="$WORK/virtiofs.sock" -o source="$CHECKOUT" -o cache=auto \
        > "$WORK/virtiofsd.log" 2>&1 &
    VIRTIOFSD=$!
    for _ in $(seq 50); do [ -S "$WORK/virtiofs.sock" ] && break; sleep 0.1; done
    ARGS+=(-object "memory-backend-memfd,id=mem,size=${MEMORY}M,share=on" -numa node,memdev=mem
           -chardev "socket,id=virtiofs,path=$WORK/virtiofs.sock"
           -device vhost-user-fs-pci,chardev=virtiofs,tag=podbay)
    SHARE=virtiofs
else
    ARGS+=(-virtfs "local,path=$CHECKOUT,mount_tag=podbay,security_model=passthrough,id=podbay")
    SHARE=9p
fi
echo "qemu-run: accel $ACCEL, share $SHARE, ${CPUS} CPUs, ${MEMORY} MiB" >&2
started=$(date +%s)
timeout "$LIMIT" qemu-system-x86_64 "${ARGS[@]}" < /dev/null 2> "$WORK/qemu.err" | sed -u 's/\r$//'
status=${PIPESTATUS[0]}
if [ -s "$WORK/qemu.err" ]; then
    echo "--- qemu's stderr:" >&2
    cat "$WORK/qemu.err" >&2
fi
[ "$status" -eq 124 ] && echo "qemu-run: the VM did not finish within ${LIMIT} s" >&2
echo "qemu-run: the VM ran $(($(date +%s) - started)) s" >&2
if [ ! -s "$RESULTS/rc" ]; then
    echo "qemu-run: the guest left no exit code (it did not boot, or the runner failed)" >&2
    exit 255
fi
exit "$(cat "$RESULTS/rc")"
