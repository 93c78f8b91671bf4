#!/usr/bin/env bash
# The main job: set up, build, then run the default co-simulation (two hosts,
# RtlNic at 512 bits, ping plus a UDP exchange) and print its results.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
cd "$here"
PYTHONPATH="$here/build/python" exec /usr/bin/python3 -m veridian.tools.demo "$@"
