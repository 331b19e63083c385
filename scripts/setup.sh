#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian/Ubuntu machine: the system packages podbay needs,
# a virtualenv in .venv, and podbay installed into it (editable, with the dev tools).
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-dev, gcc and libcap-dev build python-prctl; uidmap gives newuidmap/newgidmap for rootless
# pods; slirp4netns and nftables connect rootless pods to the outside; busybox-static is what the tests
# and the demo build their images from; tmux drives the TUI in its end-to-end test; docker-registry (the
# CNCF distribution server) and apache2-utils (htpasswd) are the pull tests' registry on loopback.
APT_PACKAGES=(python3 python3-venv python3-pip python3-dev gcc libc6-dev libcap-dev libseccomp2 uidmap
              slirp4netns nftables busybox-static tmux docker-registry apache2-utils)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
if command -v dpkg >/dev/null 2>&1; then
    for package in "${APT_PACKAGES[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The system's python3 first: containers' user namespace roots (and rootless test users) must be
# able to run the interpreter podbay re-execs, which a python under /root (pyenv) does not allow.
PYTHON=""
for candidate in /usr/bin/python3 python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        PYTHON=$(command -v "$candidate"); break
    fi
done
[ -n "$PYTHON" ] || { echo "setup: podbay needs Python 3.11 or newer" >&2; exit 1; }

# Recreate a venv made from another interpreter (for example an older pyenv one).
if [ -x .venv/bin/python ] && [ "$(.venv/bin/python -c 'import os, sys; print(os.path.realpath(sys._base_executable))' 2>/dev/null)" != "$(readlink -f "$PYTHON")" ]; then
    echo "setup: recreating .venv with $PYTHON"
    rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv
fi

# Reinstall only when the project's dependencies changed.
stamp=.venv/.podbay-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing podbay and its dev tools into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev]'
    echo "$want" > "$stamp"
fi
