"""What offloads and cores buy a host whose work takes CPU time: TCP bulk
throughput, CPU utilisation and cycles per byte in virtual time.

    PYTHONPATH=build/python /usr/bin/python3 -m veridian.tools.cpubench [--bytes N] [--out FILE]

Runs `vd_cpu_workload` (two SoftNic hosts with host CPUs at 3 GHz, the
shipped cost table, a 100 Gb/s link) natively:
  * one flow on one core, offloads (TSO, checksums) off and on, MTU 1500
    and 9000;
  * 16 flows spread by RSS over 1, 2, 4 and 8 cores (as many NIC queues),
    offloads on, MTU 1500.
Everything is virtual time, so the numbers repeat exactly. The table is
printed and kept as JSON (default build/bench/cpubench.json), with the
callgrind figures of the last calibration (build/bench/cpu_costs.json) when
there is one.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

GHZ = 3.0


def _build() -> Path:
    return Path(__file__).resolve().parents[3]


def run(args: list[str]) -> dict:
    exe = _build() / "host" / "vd_cpu_workload"
    if not exe.exists():
        raise SystemExit(f"{exe} not found (build it: ninja -C build vd_cpu_workload)")
    r = subprocess.run([str(exe), *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"vd_cpu_workload {' '.join(args)} failed: {r.stderr.strip()}")
    d = json.loads(r.stdout.strip().splitlines()[-1])
    busy = {h: sum(u) for h, u in d["utilisation"].items()}  # cores' worth of busy time
    d["cycles_per_byte"] = sum(busy.values()) * d["virtual_ns"] * GHZ / d["bytes"]
    d["sender_cores"], d["receiver_cores"] = busy["a"], busy["b"]
    return d


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m veridian.tools.cpubench", description=__doc__.split("\n\n")[0])
    p.add_argument("--bytes", type=int, default=32 << 20, help="bytes per single-flow run (multi-flow: /16 per flow)")
    p.add_argument("--out", default=str(_build() / "bench" / "cpubench.json"))
    a = p.parse_args(argv)
    single = []
    for mtu in (1500, 9000):
        for off in ("off", "on"):
            single.append(run(["--workload", "tcp", "--offload", off, "--mtu", str(mtu), "--bytes", str(a.bytes)]))
    multi = [run(["--workload", "tcp", "--flows", "16", "--cores", str(c), "--queues", str(c),
                  "--bytes", str(a.bytes // 16)]) for c in (1, 2, 4, 8)]
    print("One TCP flow, one 3 GHz core per host (virtual time):")
    print("| MTU | offloads | Gb/s | sender cores busy | receiver cores busy | host cycles/byte (both ends) |")
    print("|---|---|---|---|---|---|")
    for d in single:
        print(f"| {d['mtu']} | {'on' if d['offload'] else 'off'} | {d['gbps']:.2f} | {d['sender_cores']:.2f} | "
              f"{d['receiver_cores']:.2f} | {d['cycles_per_byte']:.2f} |")
    for mtu in (1500, 9000):
        off, on = (d for d in single if d["mtu"] == mtu)
        print(f"  MTU {mtu}: offloads give {on['gbps'] / off['gbps']:.2f}x the throughput, "
              f"{off['cycles_per_byte'] / on['cycles_per_byte']:.2f}x fewer cycles per byte")
    print("16 TCP flows spread by RSS, offloads on, MTU 1500:")
    print("| cores (= queues) per host | Gb/s | receiver cores busy | host cycles/byte |")
    print("|---|---|---|---|")
    for d in multi:
        print(f"| {d['cores']} | {d['gbps']:.2f} | {d['receiver_cores']:.2f} | {d['cycles_per_byte']:.2f} |")
    res = {"ghz": GHZ, "single_flow": single, "rss_flows": multi}
    cal = _build() / "bench" / "cpu_costs.json"
    if cal.exists():
        c = json.loads(cal.read_text())
        res["calibration"] = {v["name"]: v for v in c["validation"]}
        print("Callgrind (last calibration run), host instructions of the validation transfers:")
        for v in c["validation"]:
            print(f"  {v['name']}: measured {v['measured']:,}, model {v['predicted']:,.0f} ({v['error']:+.1%})")
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print(f"(kept in {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
