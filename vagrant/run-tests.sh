#!/usr/bin/env bash
# The VM suite, inside the test VM (or any machine vagrant/provision.sh has set up), as root:
#
#   vagrant/run-tests.sh [PYTEST ARGS...]      (e.g. tests/ to add the whole suite to the first pass)
#
# 1. as root: every test marked vm or cgroup2 (tests/vm/ and the rest of the tree), with the
#    arguments given;
# 2. rootless as users run it: as $PODBAY_VM_USER (default podbay-user) inside a scope of its own
#    systemd user manager with delegated controllers (systemd-run --user --scope -p Delegate=yes),
#    every test marked session.
# Prints pass/fail/skip counts of each pass; exits non-zero on any failure and on any skip (the
# VM provides everything these tests need). JUnit files go to build/vm-results/.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=/opt/podbay/venv
USER_NAME=${PODBAY_VM_USER:-podbay-user}
RESULTS=$REPO/build/vm-results
export PODBAY_TEST_VM=1 PYTHONDONTWRITEBYTECODE=1

[ "$(id -u)" -eq 0 ] || { echo "run-tests.sh: run as root (the second pass becomes $USER_NAME)" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || { echo "run-tests.sh: no $VENV: run vagrant/provision.sh first" >&2; exit 1; }
"$VENV/bin/pip" install -q --disable-pip-version-check --no-index --no-deps --no-build-isolation -e "$REPO" ||
    exit 1
ln -sfn "$VENV/bin/podbay" /usr/local/bin/podbay
mkdir -p "$RESULTS"
chmod 755 "$REPO" "$RESULTS"  # the second pass reads the checkout and writes its results here
chown "$USER_NAME" "$RESULTS"
echo "== kernel $(uname -r); cgroup: $(stat -fc %T /sys/fs/cgroup), controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
status=0

echo "== pass 1: root"
(cd "$REPO" && "$VENV/bin/python" -m pytest -p no:cacheprovider -rs -m "(vm or cgroup2) and not session" \
    --junitxml="$RESULTS/root.xml" "$@")
"$VENV/bin/python" "$REPO/scripts/junit_summary.py" "$RESULTS/root.xml" --no-skips || status=1

echo "== pass 2: $USER_NAME in its own user manager's delegated scope"
uid=$(id -u "$USER_NAME")
for _ in $(seq 300); do [ -S "/run/user/$uid/bus" ] && break; sleep 0.2; done  # lingering: started at boot
runuser -u "$USER_NAME" -- env -C "$REPO" XDG_RUNTIME_DIR="/run/user/$uid" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$uid/bus" PODBAY_TEST_VM=1 PYTHONDONTWRITEBYTECODE=1 \
    systemd-run --user --scope --quiet -p Delegate=yes -- \
    "$VENV/bin/python" -m pytest -p no:cacheprovider -rs -m session --junitxml="$RESULTS/session.xml"
"$VENV/bin/python" "$REPO/scripts/junit_summary.py" "$RESULTS/session.xml" --no-skips || status=1

echo "== VM suite: $([ "$status" -eq 0 ] && echo passed || echo FAILED)"
exit "$status"
