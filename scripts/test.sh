#!/usr/bin/env bash
# The README's test command: make the machine ready (scripts/setup.sh: Debian packages, a Docker
# engine, .venv), then run every test: unit, the lab's own, integration against lab hosts, and the
# gates (ansible-lint production profile, ansible-test sanity, molecule). The lab images are built
# on first use and reused after; the test lab's hosts are removed at the end.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -q).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/pytest" "$@"
