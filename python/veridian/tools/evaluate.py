"""The default evaluation (the main job, scripts/demo.sh): what each offload
buys two hosts with 512-bit RTL NICs and one 3 GHz core each on 100 GbE.

    PYTHONPATH=build/python /usr/bin/python3 -m veridian.tools.evaluate [--out DIR] [--jobs N]

Runs examples/scenarios/offloads.toml (TCP bulk, TCP request/response and
64-byte UDP) with no offloads, with checksum offload, and with checksum
offload and TSO; prints what each buys (throughput, host CPU cycles per
byte, NIC cycles, PCIe bytes and TLPs each way, TLP overhead included) and writes the HTML report.
Results are kept per point, so a second run only reports.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from veridian.eval import report, results, sweep

POINTS = [
    ("none", {"host.*.nic.tx_csum": False, "host.*.nic.rx_csum": False, "host.*.nic.tso": False}),
    ("checksums", {"host.*.nic.tx_csum": True, "host.*.nic.rx_csum": True, "host.*.nic.tso": False}),
    ("checksums + TSO", {"host.*.nic.tx_csum": True, "host.*.nic.rx_csum": True, "host.*.nic.tso": True}),
]


def _source_root() -> Path:
    here = Path(__file__).resolve()
    for p in here.parents:
        if (p / "examples" / "scenarios" / "offloads.toml").exists():
            return p
    raise SystemExit("examples/scenarios/offloads.toml not found (run from a Veridian checkout)")


def table(recs: list[dict]) -> str:
    lines = ["| offloads | workload | throughput | sender cycles/byte | receiver cycles/byte | NIC cycles | "
             "PCIe bytes up / down | PCIe TLPs up / down |", "|---|---|---|---|---|---|---|---|"]
    for (name, _), rec in zip(POINTS, recs):
        if "error" in rec:
            lines.append(f"| {name} | failed: {rec['error']} | | | | | | |")
            continue
        for w in rec["workloads"]:
            thr = (f"{w['goodput_gbps']:.2f} Gb/s" if "goodput_gbps" in w else f"{w['transactions_per_s']:,.0f} trans/s, "
                   f"p99 {w['latency_ns']['p99'] / 1e3:.1f} us")
            src, dst = rec["scenario"]["workload"][w["index"]]["from"], rec["scenario"]["workload"][w["index"]]["to"]
            cpb = lambda h: f"{w['cpu'][h]['cycles_per_byte']:.2f}" if w["cpu"].get(h) else "-"
            nic = lambda k: sum(n.get(k, 0) for n in w["nic"].values())
            lines.append(f"| {name} | {w['kind']} | {thr} | {cpb(src)} | {cpb(dst)} | {nic('cycles_evaluated'):,} | "
                         f"{nic('pcie_up_bytes'):,} / {nic('pcie_down_bytes'):,} | "
                         f"{nic('pcie_up_tlps'):,} / {nic('pcie_down_tlps'):,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m veridian.tools.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[3] / "eval" / "offloads"))
    p.add_argument("--jobs", type=int, default=2)
    a = p.parse_args(argv)
    scen = _source_root() / "examples" / "scenarios" / "offloads.toml"
    recs = sweep.sweep(str(scen), [], a.out, jobs=a.jobs, explicit=[ov for _, ov in POINTS])
    for (name, _), r in zip(POINTS, recs):
        r["overrides"] = {"offloads": name}
    print("What each offload buys (examples/scenarios/offloads.toml; virtual time, deterministic):")
    print(table(recs))
    out = Path(a.out) / "report.html"
    out.write_text(report.render(recs, "Veridian: what each offload buys"))
    print(f"(report: {out}; results: {a.out}/results.csv)")
    return 1 if any("error" in r for r in recs) else 0


if __name__ == "__main__":
    sys.exit(main())
