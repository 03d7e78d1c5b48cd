#!/usr/bin/env bash
# Line and branch coverage of the package, numba kernels included.
#
# With the JIT on, coverage cannot see inside compiled kernels (they show at about
# 15%). Running every test with NUMBA_DISABLE_JIT=1 takes hours (the kernels then run as
# Python on real data), so the fast suite runs with the JIT on, the tests that drive the
# kernels on small inputs run again with the JIT off, and the two are combined.
# Needs: .venv/bin/pip install -e '.[test,mutation]'
#
#   bench/coverage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export COVERAGE_FILE=.coverage
rm -f .coverage .coverage.*
run=(.venv/bin/python -m coverage run --parallel-mode --branch --source=publisher,policies,audits)
"${run[@]}" -m pytest -q -p no:cacheprovider -m "not slow" tests
# The kernels as Python, on the small inputs of their own tests. (The Netflix parser's
# kernel relies on numba promoting uint8 byte arithmetic to int64; as plain Python it
# overflows, so it is measured with the JIT on only, where coverage cannot see inside.)
NUMBA_DISABLE_JIT=1 "${run[@]}" -m pytest -q -p no:cacheprovider -m "not slow" \
    tests/audits/test_kernels.py tests/audits/test_uniqueness.py tests/publisher/core/test_ratings.py \
    tests/audits/test_linkage.py tests/audits/test_centered.py tests/test_properties.py
.venv/bin/python -m coverage combine -q
.venv/bin/python -m coverage report --skip-empty --sort=cover
