#!/usr/bin/env bash
# Benchmarks: simulation speed (NIC cycles per wall second) and the RTL NIC's
# line rate (fraction of 100 GbE, TX and RX, PCIe Gen3/Gen4), read from
# simulated time and cycle counts. Prints the tables and keeps them in
# build/bench/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" >/dev/null
mkdir -p "$here/build/bench"
"$here/build/rtl-model/vd_sim_speed" "${1:-4000000}" | tee "$here/build/bench/sim_speed.txt"
echo
PYTHONPATH="$here/build/python" /usr/bin/python3 -m veridian.tools.linerate --out "$here/build/bench/linerate.txt"
