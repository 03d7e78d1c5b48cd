#!/usr/bin/env bash
# Mutation testing of the privacy-critical modules (issue 15): mutmut 3 copies the
# project into mutants/, changes one thing at a time (an operator, a constant, a
# comparison) in the modules listed under [tool.mutmut] in pyproject.toml, and runs the
# fast tests that cover the changed function. A surviving mutant is a change no test
# noticed. Slow: about five hours on 2 cores (the linkage audit's mutants alone about
# three and a half: each runs the audits' tests); not part of CI. Names can be passed to
# rerun a subset: bench/mutation.sh run NAME...
# mutmut picks each mutant's tests from coverage statistics it records once: after
# moving or adding functions (or tests), delete mutants/mutmut-stats.json, or mutants
# of the new code run against too few tests and look like survivors. It copies tests
# only at its first run: refresh them with rm -rf mutants/tests && cp -r tests mutants/.
#
#   .venv/bin/pip install -e '.[test,mutation]'
#   bench/mutation.sh                  # run, then list survivors and the score per module
#   bench/mutation.sh show NAME        # the diff of one mutant
#   bench/mutation.sh run NAME...      # rerun some mutants (globs allowed), then the table
set -euo pipefail
cd "$(dirname "$0")/.."
export PUBLISHER_SHARED_DATA="${PUBLISHER_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
MUTMUT=${MUTMUT:-.venv/bin/mutmut}
if [[ "${1:-}" == "show" ]]; then
    exec "$MUTMUT" show "$2"
fi
if [[ "${1:-}" == "run" ]]; then
    shift
fi
"$MUTMUT" run --max-children "${JOBS:-2}" "$@" || true
.venv/bin/python bench/mutation_report.py
