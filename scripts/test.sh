#!/usr/bin/env bash
# The whole check, as CI runs it: set-up, ruff, mypy (strict on podbay.runtime), pytest, then the
# VM suite in a QEMU guest (vagrant/ci.sh; PODBAY_SKIP_VM=1 leaves it out of a local run).
# Extra arguments go to pytest. Ends with one line: "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || exit 1
PY=.venv/bin/python
status=0

echo "== ruff"
.venv/bin/ruff check runtime tui tests || status=1

echo "== mypy"
# mypy must see runtime/ and tui/ under their package names: give it a tree of links.
mkdir -p build/typecheck/podbay
ln -sfn ../../../runtime build/typecheck/podbay/runtime
ln -sfn ../../../tui build/typecheck/podbay/tui
(cd build/typecheck && ../../.venv/bin/mypy --config-file ../../pyproject.toml -p podbay.runtime -p podbay.tui) \
    || status=1

echo "== pytest"
mkdir -p build
# The VM's own tests run in the VM (below), not here.
$PY -m pytest -rs -m "not vm and not session" --junitxml=build/junit.xml "$@"
tests=$?
# pytest exits 5 when it ran nothing: that is a failure here, not a pass.
[ "$tests" -eq 0 ] || status=1
$PY scripts/junit_summary.py build/junit.xml || status=1
results=(build/junit.xml)

echo "== the VM suite (cgroup v2, systemd delegation, rootless as users run it)"
if [ "${PODBAY_SKIP_VM:-}" = 1 ]; then
    echo "VM suite: not run (PODBAY_SKIP_VM=1)"
elif [ "$(id -u)" -ne 0 ]; then
    echo "VM suite: not run (needs root to build the image and boot the VM; CI runs it)"
else
    bash vagrant/ci.sh || status=1
    results+=(.ci/results/vm/root.xml .ci/results/vm/session.xml)
fi

echo "== all together"
$PY scripts/junit_summary.py "${results[@]}" > build/summary.txt || status=1
tail -1 build/summary.txt
exit "$status"
