#!/usr/bin/env bash
# The whole check, as CI runs it: set-up, ruff, mypy (strict on podbay.runtime), pytest.
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
$PY -m pytest -rs --junitxml=build/junit.xml "$@"
tests=$?
# pytest exits 5 when it ran nothing: that is a failure here, not a pass.
[ "$tests" -eq 0 ] || status=1

$PY scripts/junit_summary.py build/junit.xml || status=1
exit "$status"
