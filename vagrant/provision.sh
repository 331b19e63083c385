#!/usr/bin/env bash
# Make a Debian 12 / Ubuntu 24.04 machine (a Vagrant guest, a plain VM, the CI image while it is
# built) ready to run and test podbay, rootful and rootless. Idempotent: run it again at will.
#
#   vagrant/provision.sh [--deps-only] [REPO]      (as root; REPO defaults to this script's repo)
#   vagrant/provision.sh --packages                (prints the Debian packages it installs)
#
# - the system packages podbay and its tests need;
# - an unprivileged user ($PODBAY_VM_USER, default podbay-user) with subuid/subgid ranges;
# - systemd delegating cpu cpuset io memory pids to user sessions (a user@.service drop-in) and
#   lingering for that user, so it has a user manager and /run/user/UID from boot on;
# - a virtualenv at /opt/podbay/venv with podbay's dependencies (from $PODBAY_WHEELHOUSE when set:
#   offline), and, unless --deps-only, podbay itself installed from REPO (editable) with
#   /usr/local/bin/podbay pointing at it.
# Works without a running systemd (inside a chroot while an image is built): what needs the
# manager is written as files it reads when it starts.
set -euo pipefail

DEPS_ONLY=0
case "${1:-}" in
    --deps-only) DEPS_ONLY=1; shift ;;
    --packages) PRINT_PACKAGES=1; shift ;;
esac
REPO=$(cd "${1:-$(dirname "$0")/..}" && pwd)
USER_NAME=${PODBAY_VM_USER:-podbay-user}
VENV=/opt/podbay/venv

# python3-dev, gcc, libcap-dev: python-prctl's build; uidmap: newuidmap/newgidmap (rootless);
# busybox-static + gcc/libc6-dev: the tests' images; docker-registry: the registry tests;
# dbus-user-session + libpam-systemd + systemd-container: user managers, their bus, machinectl.
PACKAGES=(python3 python3-venv python3-pip python3-dev gcc libc6-dev libcap-dev libseccomp2 uidmap
          iproute2 nftables slirp4netns busybox-static tmux docker-registry sudo rsync procps
          dbus-user-session libpam-systemd systemd-container ca-certificates)
if [ -n "${PRINT_PACKAGES:-}" ]; then echo "${PACKAGES[*]}"; exit 0; fi

[ "$(id -u)" -eq 0 ] || { echo "provision.sh: run as root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

# --- packages --------------------------------------------------------------------------------
missing=()
for package in "${PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The registry tests start their own server; the package's service must not hold port 5000.
if [ -d /run/systemd/system ]; then
    systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
else
    rm -f /etc/systemd/system/multi-user.target.wants/docker-registry.service
fi

# --- the unprivileged user -------------------------------------------------------------------
if ! id "$USER_NAME" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash "$USER_NAME"
fi
for file in /etc/subuid /etc/subgid; do
    touch "$file"
    if ! grep -q "^$USER_NAME:" "$file"; then
        flag=$([ "$file" = /etc/subuid ] && echo --add-subuids || echo --add-subgids)
        usermod "$flag" 100000-165535 "$USER_NAME"
    fi
done

# --- cgroup v2 delegation to user sessions, and a user manager from boot --------------------
install -d /etc/systemd/system/user@.service.d
cat > /etc/systemd/system/user@.service.d/delegate.conf <<'EOF'
# podbay: rootless pods get CPU, cpuset, I/O, memory and pids limits in the user's own subtree.
[Service]
Delegate=cpu cpuset io memory pids
EOF
install -d /var/lib/systemd/linger
touch "/var/lib/systemd/linger/$USER_NAME"  # what `loginctl enable-linger` records
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    loginctl enable-linger "$USER_NAME"
fi

# --- podbay's Python ---------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
PIP=("$VENV/bin/pip" install -q --disable-pip-version-check)
if [ -n "${PODBAY_WHEELHOUSE:-}" ]; then
    PIP+=(--no-index --find-links "$PODBAY_WHEELHOUSE")
fi
"$VENV/bin/python" "$REPO/vagrant/requirements.py" "$REPO/pyproject.toml" > /tmp/podbay-requirements.txt
"${PIP[@]}" -r /tmp/podbay-requirements.txt
rm -f /tmp/podbay-requirements.txt
if [ "$DEPS_ONLY" -eq 0 ]; then
    "${PIP[@]}" --no-deps --no-build-isolation -e "$REPO"
    ln -sfn "$VENV/bin/podbay" /usr/local/bin/podbay
    echo "provision.sh: podbay $("$VENV/bin/podbay" version | cut -d' ' -f2) from $REPO; user $USER_NAME"
fi
