#!/usr/bin/env bash
# `ansible-test sanity` over exactly what the collection ships: build the tarball, unpack it into a
# temporary ansible_collections/axelabs/onboard tree, run every sanity test there (no Docker).
#
# ansible-test bootstraps pip in its per-test virtualenvs with a get-pip script it downloads from
# ci-files.testing.ansible.com, which this network cannot reach. Its cache path is documented in
# its own error message; we put a stand-in there that bootstraps pip from the interpreter's bundled
# wheel (ensurepip) and installs the requested pip from PyPI, which is reachable.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv/bin"
WORK=$(mktemp -d /tmp/axe-sanity.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# The pip version ansible-core 2.19 bootstraps its sanity virtualenvs with.
PIP_VERSION=24.2
SHIM="$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"
if [ ! -f "$SHIM" ] || ! grep -q "axe-sanity shim" "$SHIM"; then
  mkdir -p "$(dirname "$SHIM")"
  cat > "$SHIM" <<'PY'
# axe-sanity shim: get-pip.py's interface, bootstrapping from ensurepip (see scripts/ansible-sanity.sh)
import ensurepip, os, subprocess, sys
ensurepip.bootstrap(upgrade=True)
os.environ.pop("PIP_CONFIG_FILE", None)  # ensurepip sets it to ignore pip.conf; the install below needs pip.conf
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "-q", *args]))
PY
fi

cd "$ROOT"
"$VENV/ansible-galaxy" collection build --output-path "$WORK" --force >/dev/null
TREE="$WORK/ansible_collections/axelabs/onboard"
mkdir -p "$TREE"
tar -C "$TREE" -xzf "$WORK"/axelabs-onboard-*.tar.gz
cd "$TREE"
"$VENV/ansible-test" sanity --local --python 3.11 --requirements --color no "$@" 2>&1 \
  | grep -v -E '^(WARNING: Location|Collecting |  Downloading |Processing |Installing collected|Successfully installed|     ━|Using cached pip|\[notice\])'
exit "${PIPESTATUS[0]}"
