#!/usr/bin/env bash
# In the CI VM (podbay-ci.service; only when the kernel command line has podbay.ci): mount the
# host's checkout (virtiofs, else 9p; tag "podbay"), copy it onto this disk (tests on the share are
# several times slower), run the command the host left in .ci/results/vm/cmd.sh, leave its output
# and exit code there, power off.
set -u
SHARE=/mnt/podbay
say() { echo "podbay-ci: $*" > /dev/ttyS0; }
mkdir -p "$SHARE"
if ! mount -t virtiofs podbay "$SHARE" 2>/dev/null &&
   ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 podbay "$SHARE"; then
    say "cannot mount the host's share"
    systemctl poweroff
    exit 1
fi
RESULTS=$SHARE/.ci/results/vm
say "start at $(cut -d' ' -f1 /proc/uptime) s of uptime"
rsync -a --delete --exclude=.git/ --exclude=.venv/ --exclude=build/ --exclude=.ci/results/ "$SHARE/" /srv/podbay/
cd /srv/podbay
bash "$RESULTS/cmd.sh" > >(tee "$RESULTS/output.log" > /dev/ttyS0) 2>&1
rc=$?
sleep 1  # tee's last lines
cp -r /srv/podbay/build/vm-results/. "$RESULTS/" 2>/dev/null
echo "$rc" > "$RESULTS/rc"
sync
say "exit code $rc at $(cut -d' ' -f1 /proc/uptime) s of uptime"
cd /
umount "$SHARE"
systemctl poweroff
