#!/usr/bin/env bash
# mmdebstrap's customize hook for vagrant/image/build.sh: ROOT (the new tree) REPO WHEELHOUSE.
set -euo pipefail
ROOT=$1 REPO=$2 WHEELS=$3
HERE=$(cd "$(dirname "$0")" && pwd)

echo podbay-vm > "$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 podbay-vm\n' > "$ROOT/etc/hosts"
echo 'LABEL=root / ext4 defaults,errors=remount-ro 0 1' > "$ROOT/etc/fstab"
# DHCP on any NIC (Vagrant's management network); boot never waits for it.
mkdir -p "$ROOT/etc/systemd/network"
printf '[Match]\nName=en* eth*\n[Network]\nDHCP=yes\n' > "$ROOT/etc/systemd/network/50-dhcp.network"
chroot "$ROOT" systemctl enable systemd-networkd
chroot "$ROOT" systemctl mask systemd-networkd-wait-online.service
# Vagrant's conventions: user vagrant, password vagrant, passwordless sudo, the insecure public
# key (from Debian's vagrant package when the host has it; the box is local and throw-away).
chroot "$ROOT" useradd --create-home --shell /bin/bash vagrant
echo 'vagrant:vagrant' | chroot "$ROOT" chpasswd
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' > "$ROOT/etc/sudoers.d/vagrant"
chmod 0440 "$ROOT/etc/sudoers.d/vagrant"
key=$(ls /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub 2>/dev/null | head -1 || true)
if [ -n "$key" ]; then
    install -d -m 700 -o 1000 -g 1000 "$ROOT/home/vagrant/.ssh"
    install -m 600 -o 1000 -g 1000 "$key" "$ROOT/home/vagrant/.ssh/authorized_keys"
fi
echo 'UseDNS no' > "$ROOT/etc/ssh/sshd_config.d/vagrant.conf"
# The CI runner: with podbay.ci on the kernel command line, run the host's command and power off.
install -m 755 "$HERE/ci-runner.sh" "$ROOT/usr/local/sbin/podbay-ci-runner"
install -m 644 "$HERE/podbay-ci.service" "$ROOT/etc/systemd/system/podbay-ci.service"
chroot "$ROOT" systemctl enable podbay-ci.service
printf 'virtiofs\n9p\n9pnet_virtio\n' > "$ROOT/etc/modules-load.d/podbay-share.conf"

# The same provisioning as a user's `vagrant up`, dependencies only (the tests install podbay
# from the checkout they run).
install -d "$ROOT/tmp/podbay-provision/vagrant" "$ROOT/tmp/podbay-wheels"
cp "$REPO/vagrant/provision.sh" "$REPO/vagrant/requirements.py" "$ROOT/tmp/podbay-provision/vagrant/"
cp "$REPO/pyproject.toml" "$ROOT/tmp/podbay-provision/"
cp "$WHEELS"/*.whl "$ROOT/tmp/podbay-wheels/"
chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root PODBAY_WHEELHOUSE=/tmp/podbay-wheels \
    bash /tmp/podbay-provision/vagrant/provision.sh --deps-only /tmp/podbay-provision
rm -rf "$ROOT/tmp/podbay-provision" "$ROOT/tmp/podbay-wheels"
