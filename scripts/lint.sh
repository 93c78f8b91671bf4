#!/usr/bin/env bash
# verilator --lint-only -Wall on the NIC top at several data widths.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
/usr/bin/python3 "$here/offload/abi/gen_abi.py" "$here/offload/abi/nic_abi.json" "$gen"
for w in ${*:-64 128 512}; do
  verilator --lint-only -Wall -GDW="$w" --top-module vd_nic_top "$gen/rtl/vd_abi_pkg.sv" "$here"/rtl-model/rtl/*.sv
  echo "lint DW=$w: clean"
  # the `ifdef SYNTHESIS view that yosys reads
  verilator --lint-only -Wall -DSYNTHESIS -GDW="$w" --top-module vd_nic_top "$gen/rtl/vd_abi_pkg.sv" "$here"/rtl-model/rtl/*.sv
  echo "lint DW=$w (SYNTHESIS): clean"
done
