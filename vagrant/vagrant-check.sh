#!/usr/bin/env bash
# The Vagrantfile itself, for real: the test VM's image as a local vagrant-libvirt box, then
# `vagrant up`, `vagrant ssh -c 'podbay doctor && a rootless pod'`, `vagrant destroy -f`. As root,
# offline, without systemd: libvirtd and virtlogd are started here, in a network and mount
# namespace of their own (libvirt's bridge, dnsmasq and NAT rules never touch the host's network;
# an empty /sys/fs/cgroup there keeps libvirt out of the host's cgroups), and stopped by PID.
#
#   vagrant/vagrant-check.sh IMAGEDIR        (vagrant/ci.sh calls it after the QEMU suite)
set -euo pipefail
IMAGE=$(realpath "${1:?usage: vagrant-check.sh IMAGEDIR}")
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$(dirname "$IMAGE")
STATE=$(mktemp -d "${TMPDIR:-/var/tmp}/podbay-libvirt.XXXXXX")
export VAGRANT_HOME=$CACHE/vagrant.d VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_BOX_UPDATE_CHECK_DISABLE=1 \
       VAGRANT_DEFAULT_PROVIDER=libvirt PODBAY_BOX=podbay/local \
       PODBAY_VAGRANT_INSERT_KEY=false VAGRANT_DOTFILE_PATH=$STATE/dot-vagrant
# Hardware KVM when the host has it; these development machines' /dev/kvm cannot boot a stock kernel.
if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then
    export PODBAY_LIBVIRT_DRIVER=kvm
else
    export PODBAY_LIBVIRT_DRIVER=qemu
fi
[ "$(id -u)" -eq 0 ] || { echo "vagrant-check.sh: run as root" >&2; exit 1; }

# The box, made once per image.
BOX=$IMAGE/podbay-local.box
if [ "$(cat "$VAGRANT_HOME/podbay-box" 2>/dev/null)" != "$IMAGE" ]; then
    bash "$REPO/vagrant/image/box.sh" "$IMAGE" "$BOX"
    vagrant box add --force --name podbay/local "$BOX" > /dev/null
    rm -f "$BOX"
    echo "$IMAGE" > "$VAGRANT_HOME/podbay-box"
fi

# What systemd and udev would have done: libvirt probes QEMU on every call unless /dev/kvm is
# group kvm; libvirt must not manage cgroups here (the host's are v1/hybrid).
if getent group kvm > /dev/null; then chgrp kvm /dev/kvm && chmod 660 /dev/kvm; fi
grep -q '^cgroup_controllers = \[ \]' /etc/libvirt/qemu.conf || echo 'cgroup_controllers = [ ]' >> /etc/libvirt/qemu.conf

unshare --net --mount --propagation private sh -c '
    mount -t sysfs sysfs /sys && mount -t tmpfs -o mode=755 none /sys/fs/cgroup &&
    mount -t tmpfs -o mode=755 none /run && mkdir -p /run/lock && ip link set lo up && exec sleep infinity' \
    < /dev/null > "$STATE/holder.log" 2>&1 &
HOLDER=$!
IN_NS=(nsenter -t "$HOLDER" -n -m)
stop() {
    set +e
    "${IN_NS[@]}" --wd="$REPO" vagrant destroy -f > /dev/null 2>&1
    for daemon in libvirtd virtlogd; do
        pid=$("${IN_NS[@]}" cat "/run/$daemon.pid" 2>/dev/null)
        [ -n "$pid" ] && kill "$pid" && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    done
    kill "$HOLDER"
    wait "$HOLDER" 2>/dev/null
    rm -rf "$STATE"
}
trap stop EXIT
for _ in $(seq 50); do "${IN_NS[@]}" test -d /run/lock 2>/dev/null && break; sleep 0.1; done
"${IN_NS[@]}" /usr/sbin/virtlogd -d
"${IN_NS[@]}" /usr/sbin/libvirtd -d
for _ in $(seq 100); do "${IN_NS[@]}" virsh -c qemu:///system version > /dev/null 2>&1 && break; sleep 0.2; done

started=$(date +%s)
"${IN_NS[@]}" --wd="$REPO" vagrant up --provider=libvirt
up=$(date +%s)
SMOKE='podbay doctor &&
    /opt/podbay/venv/bin/python /vagrant/tests/imagebuilder.py /tmp/demo.tar --name localhost/podbay-demo:latest &&
    podbay image load /tmp/demo.tar && podbay run -f /vagrant/examples/hello-pod.yaml --rm --attach'
rc=0
"${IN_NS[@]}" --wd="$REPO" vagrant ssh -c "$SMOKE" || rc=$?
checked=$(date +%s)
"${IN_NS[@]}" --wd="$REPO" vagrant destroy -f
echo "vagrant-check: up $((up - started)) s, ssh and smoke test $((checked - up)) s, destroy $(($(date +%s) - checked)) s," \
     "exit code $rc"
exit "$rc"
