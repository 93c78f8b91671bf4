#!/usr/bin/env bash
# Set up, build, then run every test: GoogleTest (via CTest) and pytest.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
cd "$here/build"
ctest --output-on-failure -j "$(nproc)"
cd "$here"
PYTHONPATH="$here/build/python" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/py "$@"
