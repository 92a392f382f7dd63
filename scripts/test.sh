#!/usr/bin/env bash
# The README's test command: make the machine ready (scripts/setup.sh: Debian packages, a Docker
# engine, .venv), then run every test: unit, the lab's own, integration against lab hosts, and the
# gates (ansible-lint production profile, ansible-test sanity, molecule). The lab images are built
# on first use and reused after; the test lab's hosts are removed at the end.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -q). Unit tests alone need no machine
# set-up (no Debian packages, no Docker engine): only the virtualenv, and run in one process.
# Everything else runs in parallel: AXE_TEST_WORKERS pytest-xdist workers (default 3), one test file per
# worker at a time, each worker with a lab of its own (tests/helpers/lab.py); the longest files are
# listed first (pyproject.toml's testpaths) so they start first. AXE_TEST_WORKERS=0 runs in one process.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
only_unit=0
for arg in "$@"; do
  case "$arg" in
    -*) ;;
    tests/unit|tests/unit/*) only_unit=1 ;;
    *) only_unit=0; break ;;
  esac
done
parallel=()
if [ "$only_unit" = 1 ]; then
  export AXE_SETUP=venv
elif [ "${AXE_TEST_WORKERS:-3}" != 0 ]; then
  parallel=(-n "${AXE_TEST_WORKERS:-3}" --dist loadfile --no-loadscope-reorder)
fi
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/pytest" "${parallel[@]}" "$@"
