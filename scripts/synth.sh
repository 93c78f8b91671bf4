#!/usr/bin/env bash
# Proves the NIC RTL synthesizes with yosys (synth_xilinx) and prints its
# LUT/FF/BRAM counts. Usage: scripts/synth.sh [DATA_WIDTH] [NUM_QUEUES] [--blocks]
# --blocks keeps the hierarchy and prints the cost of each block (RSS, the
# RX engine with its checksum verifier, the TX engine with its header stage,
# the TX emit stage, the DRR scheduler, the completion writer, the shared
# descriptor cache once per engine, the queue registers); without it the top
# is flattened.
set -euo pipefail
DW=${1:-64}
NQ=${2:-16}
MODE=${3:-}
here=$(cd "$(dirname "$0")/.." && pwd)
command -v yosys >/dev/null || { echo "synth.sh: yosys not found (apt-get install yosys)" >&2; exit 2; }
out=${SYNTH_OUT:-$here/build/synth}
mkdir -p "$out"
/usr/bin/python3 "$here/offload/abi/gen_abi.py" "$here/offload/abi/nic_abi.json" "$out/gen"
rtl="$here/rtl-model/rtl"
tag="dw$DW"
flatten="-flatten"
if [ "$MODE" = "--blocks" ]; then flatten=""; tag="dw${DW}_blocks"; fi
cat > "$out/synth_$tag.ys" <<YS
read_verilog -sv $out/gen/rtl/vd_abi_pkg.sv $(ls "$rtl"/*.sv | grep -v vd_abi_pkg | tr '\n' ' ')
chparam -set DW $DW -set NQ $NQ vd_nic_top
synth_xilinx -top vd_nic_top $flatten
tee -o $out/stat_$tag.txt stat
YS
# yosys -q still prints its memory-mapping notes on stderr; keep them in a file
if ! yosys -q -l "$out/synth_$tag.log" -s "$out/synth_$tag.ys" >/dev/null 2>"$out/synth_$tag.warnings"; then
  echo "synth.sh: yosys failed; the end of its log:" >&2
  grep -E "ERROR|Error" "$out/synth_$tag.log" "$out/synth_$tag.warnings" >&2 || tail -20 "$out/synth_$tag.log" >&2
  exit 1
fi
/usr/bin/python3 - "$out/stat_$tag.txt" "$DW" "$NQ" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
# One section per module ("=== name ===" ... up to the next), the flattened top alone otherwise.
sections = re.split(r"^=== (.+?) ===\s*$", text, flags=re.M)
mods = dict(zip(sections[1::2], sections[2::2])) if len(sections) > 1 else {"vd_nic_top": text}
def cost(body):
    cells = dict((m.group(1), int(m.group(2))) for m in re.finditer(r"^\s+(\S+)\s+(\d+)\s*$", body, re.M))
    luts = sum(v for k, v in cells.items() if re.fullmatch(r"LUT\d", k))
    ffs = sum(v for k, v in cells.items() if re.fullmatch(r"FD\w*", k))
    lutram = sum(v for k, v in cells.items() if k.startswith("RAM") and not k.startswith("RAMB"))
    bram = sum(v for k, v in cells.items() if k.startswith("RAMB"))
    return luts, ffs, lutram, bram
if len(mods) == 1:
    l, f, r, b = cost(next(iter(mods.values())))
    print(f"vd_nic_top DW={sys.argv[2]} NQ={sys.argv[3]}: LUT={l} FF={f} LUTRAM={r} BRAM={b} (yosys synth_xilinx)")
else:
    print(f"per block, DW={sys.argv[2]} NQ={sys.argv[3]} (yosys synth_xilinx, hierarchy kept; a block's own cells, "
          "instances of other blocks not included)")
    for name, body in mods.items():
        l, f, r, b = cost(body)
        label = "whole NIC (design hierarchy)" if name == "design hierarchy" else re.sub(r"^\$paramod(\$\w+)?\\", "", name).split("\\")[0]
        label = {"vd_nic_top": "vd_nic_top (CSRs, DMA arbitration)",
                 "vd_tx_engine": "vd_tx_engine (fetch, receive, contexts)",
                 "vd_tx_header": "vd_tx_header (parse, sums, TSO fields)",
                 "vd_rx_engine": "vd_rx_engine (slots, checksum verify)",
                 "vd_desc_cache": "vd_desc_cache (per engine)",
                 "vd_tx_drr": "vd_tx_drr (DRR scheduler)",
                 "vd_tx_emit": "vd_tx_emit (emit stage, patching)",
                 "vd_tx_cpl_writer": "vd_tx_cpl_writer (TX completions)"}.get(label, label)
        print(f"  {label:<40} LUT={l:<7} FF={f:<7} LUTRAM={r:<5} BRAM={b}")
PY
