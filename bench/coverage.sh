#!/usr/bin/env bash
# Line coverage of the package with the numba JIT disabled, so that the compiled
# kernels run as Python and count (with the JIT on, coverage cannot see inside them).
# Runs the fast tests by default; pass "all" for the whole suite (much slower without
# the JIT). Needs: .venv/bin/pip install -e '.[test,mutation]'
#
#   bench/coverage.sh [all]
set -euo pipefail
cd "$(dirname "$0")/.."
marker=(-m "not slow")
if [[ "${1:-}" == "all" ]]; then
    marker=()
fi
export NUMBA_DISABLE_JIT=1
.venv/bin/python -m coverage run --branch --source=publisher,policies,audits \
    -m pytest -q -p no:cacheprovider "${marker[@]}" tests
.venv/bin/python -m coverage report --skip-empty --sort=cover
