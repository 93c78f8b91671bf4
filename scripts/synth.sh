#!/usr/bin/env bash
# Proves the NIC RTL synthesizes with yosys (synth_xilinx) and prints its
# LUT/FF/BRAM counts. Usage: scripts/synth.sh [DATA_WIDTH] [NUM_QUEUES]
set -euo pipefail
DW=${1:-64}
NQ=${2:-16}
here=$(cd "$(dirname "$0")/.." && pwd)
command -v yosys >/dev/null || { echo "synth.sh: yosys not found (apt-get install yosys)" >&2; exit 2; }
out=${SYNTH_OUT:-$here/build/synth}
mkdir -p "$out"
/usr/bin/python3 "$here/offload/abi/gen_abi.py" "$here/offload/abi/nic_abi.json" "$out/gen"
rtl="$here/rtl-model/rtl"
cat > "$out/synth_dw$DW.ys" <<YS
read_verilog -sv $out/gen/rtl/vd_abi_pkg.sv $(ls "$rtl"/*.sv | grep -v vd_abi_pkg | tr '\n' ' ')
chparam -set DW $DW -set NQ $NQ vd_nic_top
synth_xilinx -top vd_nic_top -flatten
tee -o $out/stat_dw$DW.txt stat
YS
# yosys -q still prints its memory-mapping notes on stderr; keep them in a file
if ! yosys -q -l "$out/synth_dw$DW.log" -s "$out/synth_dw$DW.ys" >/dev/null 2>"$out/synth_dw$DW.warnings"; then
  echo "synth.sh: yosys failed; the end of its log:" >&2
  grep -E "ERROR|Error" "$out/synth_dw$DW.log" "$out/synth_dw$DW.warnings" >&2 || tail -20 "$out/synth_dw$DW.log" >&2
  exit 1
fi
/usr/bin/python3 - "$out/stat_dw$DW.txt" "$DW" "$NQ" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
cells = dict((m.group(1), int(m.group(2))) for m in re.finditer(r"^\s+(\S+)\s+(\d+)\s*$", text, re.M))
luts = sum(v for k, v in cells.items() if re.fullmatch(r"LUT\d", k))
ffs = sum(v for k, v in cells.items() if re.fullmatch(r"FD\w*", k))
lutram = sum(v for k, v in cells.items() if k.startswith("RAM") and not k.startswith("RAMB"))
bram = sum(v for k, v in cells.items() if k.startswith("RAMB"))
print(f"vd_nic_top DW={sys.argv[2]} NQ={sys.argv[3]}: LUT={luts} FF={ffs} LUTRAM={lutram} BRAM={bram} (yosys synth_xilinx)")
PY
