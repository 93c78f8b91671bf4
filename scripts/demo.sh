#!/usr/bin/env bash
# The main job: set up, build, then run the default evaluation (two hosts with
# 512-bit RTL NICs and one 3 GHz core each: TCP bulk, TCP request/response and
# 64-byte UDP with no offloads, checksum offload, and checksum offload + TSO),
# print what each offload buys and write the HTML report to
# build/eval/offloads/report.html. (The ping/UDP co-simulation demo is
# `python -m veridian demo`.)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
cd "$here"
PYTHONPATH="$here/build/python" exec /usr/bin/python3 -m veridian evaluate "$@"
