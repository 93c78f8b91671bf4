#!/usr/bin/env bash
# Set up, build, then run every test: GoogleTest (via CTest), the same unit
# tests under ASan+UBSan, then pytest.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
(cd "$here/build" && ctest --output-on-failure -j "$(nproc)")
if [ "${VD_SKIP_SANITIZE:-0}" != 1 ]; then
  VD_BUILD_DIR="$here/build-asan" VD_CMAKE_ARGS="-DVD_SANITIZE=ON -DVD_BUILD_PYTHON=OFF" "$here/scripts/setup.sh"
  (cd "$here/build-asan" && ctest --output-on-failure -j "$(nproc)")
fi
cd "$here"
PYTHONPATH="$here/build/python" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/py "$@"
