#!/usr/bin/env bash
# Simulation-speed benchmark: prints a table and keeps it in build/bench/sim_speed.txt.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" >/dev/null
mkdir -p "$here/build/bench"
"$here/build/rtl-model/vd_sim_speed" "${1:-4000000}" | tee "$here/build/bench/sim_speed.txt"
