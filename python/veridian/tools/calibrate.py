"""Calibrate the host CPU cost table on this build, and check what it predicts.

    PYTHONPATH=build/python /usr/bin/python3 -m veridian.tools.calibrate [--ipc 1.0] [--out FILE] [--install]

1. Runs `vd_cpu_workload` (two SoftNic hosts with host CPUs) under valgrind's
   callgrind for a set of calibration workloads: UDP streams of several sizes
   (fragmented too), TCP request/response, pings, TCP bulk at MTU 9000 and
   over IPv6, with offloads on and off. Callgrind counts the instructions
   inside the host's work only (HostCpus::run, which every interrupt poll
   and timer goes through, and the socket calls), over the measured phase;
   the program prints the work it counted (core/work.hpp).
2. Fits instructions = sum(count[k] * cost[k]) over the workloads by
   non-negative least squares, each workload weighted by its total (so the
   fit minimises relative error), lightly pulled towards the previous table
   so that kinds of work that always occur together split as before. Kinds
   no workload exercises keep their previous price.
3. Converts instructions to cycles with --ipc (instructions per cycle,
   default 1.0: docs/cpu.md says why) and writes the table.
4. Validates: predicts the host instructions of workloads not in the
   calibration set (TCP bulk over IPv4 at MTU 1500, offloads on and off,
   moderated and frame by frame, and four flows on four cores) and reports
   the error against what callgrind measures.

Exit status 1 when a validation error exceeds --max-error (default 10%).
The report (fit, residuals, validation) is kept as JSON beside the table.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TOGGLES = ("vd::sim::HostCpus::run(*", "vd::stack::TcpSocket::send(*", "vd::stack::TcpSocket::recv(*",
           "vd::stack::UdpSocket::sendto(*", "vd::stack::UdpSocket::recvfrom(*", "vd::stack::Stack::send_echo(*",
           "vd::stack::Stack::send_echo6(*")

# (name, vd_cpu_workload arguments)
CALIBRATION = [
    ("udp64", "--workload udp --size 64 --count 3000"),
    ("udp1400_sw", "--workload udp --size 1400 --count 2000 --offload off"),
    ("udp8000_frag", "--workload udp --size 8000 --count 400"),
    ("udp6_1000", "--workload udp --size 1000 --count 1500 --family 6"),
    ("rr64", "--workload rr --size 64 --count 300"),
    ("rr16k_sw", "--workload rr --size 16000 --count 100 --offload off"),
    ("ping", "--workload ping --count 200 --size 56"),
    ("ping6_1000", "--workload ping --count 200 --size 1000 --family 6"),
    ("tcp9000_sw", "--workload tcp --mtu 9000 --bytes 4000000 --offload off"),
    ("tcp9000", "--workload tcp --mtu 9000 --bytes 4000000"),
    ("tcp6", "--workload tcp --family 6 --bytes 3000000"),
    ("tcp6_sw", "--workload tcp --family 6 --bytes 3000000 --offload off"),
    ("tcp6_frame_by_frame", "--workload tcp --family 6 --bytes 2000000 --irq-frames 1 --irq-delay-ns 0"),
]
VALIDATION = [
    ("tcp_bulk", "--workload tcp --bytes 8000000"),
    ("tcp_bulk_sw", "--workload tcp --bytes 8000000 --offload off"),
    ("tcp_bulk_frame_by_frame", "--workload tcp --bytes 4000000 --irq-frames 1 --irq-delay-ns 0"),
    ("tcp_4flows_4cores", "--workload tcp --bytes 2000000 --flows 4 --cores 4 --queues 4"),
]
QUICK_SCALE = 4  # --quick divides counts and bytes by this


def _exe() -> Path:
    build = Path(__file__).resolve().parents[3]  # <build>/python/veridian/tools/calibrate.py
    exe = build / "host" / "vd_cpu_workload"
    if not exe.exists():
        raise SystemExit(f"{exe} not found (build it: ninja -C build vd_cpu_workload)")
    return exe


def _scaled(args: str, scale: int) -> list[str]:
    out = args.split()
    for i, a in enumerate(out[:-1]):
        if a in ("--count", "--bytes") and scale > 1:
            out[i + 1] = str(max(int(out[i + 1]) // scale, 1))
    return out


def measure(args: list[str], table: str | None = None) -> dict:
    """One workload under callgrind: its counted work and host instructions."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        cmd += [f"--toggle-collect={t}" for t in TOGGLES]
        cmd += [str(_exe()), *args] + (["--table", table] if table else [])
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"vd_cpu_workload {' '.join(args)} failed under callgrind:\n{r.stderr[-2000:]}")
        run = json.loads(r.stdout.strip().splitlines()[-1])
        total = None
        with open(out + ".1") as f:  # the dump the program asks for after its measured phase
            for line in f:
                if line.startswith("totals:"):
                    total = int(line.split()[1])
        if total is None:
            raise SystemExit("callgrind wrote no totals for the measured phase")
    run["instructions"] = total
    return run


# ---------------------------------------------------------------- fitting

def _solve(M: list[list[float]], v: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (small dense systems)."""
    n = len(v)
    a = [row[:] + [v[i]] for i, row in enumerate(M)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(a[r][c]))
        if abs(a[p][c]) < 1e-300:
            raise ArithmeticError("singular system")
        a[c], a[p] = a[p], a[c]
        for r in range(c + 1, n):
            f = a[r][c] / a[c][c]
            for k in range(c, n + 1):
                a[r][k] -= f * a[c][k]
    x = [0.0] * n
    for c in reversed(range(n)):
        x[c] = (a[c][n] - sum(a[c][k] * x[k] for k in range(c + 1, n))) / a[c][c]
    return x


def _lstsq(A: list[list[float]], b: list[float], cols: list[int]) -> list[float]:
    M = [[sum(row[i] * row[j] for row in A) for j in cols] for i in cols]
    v = [sum(row[i] * bi for row, bi in zip(A, b)) for i in cols]
    return _solve(M, v)


def nnls(A: list[list[float]], b: list[float], max_iter: int = 500) -> list[float]:
    """min |Ax - b| subject to x >= 0 (Lawson and Hanson, 1974)."""
    n = len(A[0])
    x = [0.0] * n
    passive: list[int] = []

    def gradient(x):
        r = [bi - sum(ai * xi for ai, xi in zip(row, x)) for row, bi in zip(A, b)]
        return [sum(row[j] * ri for row, ri in zip(A, r)) for j in range(n)]

    for _ in range(max_iter):
        w = gradient(x)
        free = [j for j in range(n) if j not in passive and w[j] > 1e-10]
        if not free:
            break
        passive.append(max(free, key=lambda j: w[j]))
        while True:
            z_p = _lstsq(A, b, passive)
            if all(z > 0 for z in z_p):
                x = [0.0] * n
                for j, z in zip(passive, z_p):
                    x[j] = z
                break
            alpha = min(x[j] / (x[j] - z) for j, z in zip(passive, z_p) if z <= 0)
            z_full = [0.0] * n
            for j, z in zip(passive, z_p):
                z_full[j] = z
            x = [xi + alpha * (zi - xi) for xi, zi in zip(x, z_full)]
            passive = [j for j in passive if x[j] > 1e-12]
            if not passive:
                break
    return x


def fit(runs: list[dict], names: list[str], prior: dict[str, float], strength: float = 1e-2) -> dict[str, float]:
    """Instructions per unit of each kind of work, by relative-error NNLS
    pulled towards `prior` (instructions) with the given strength."""
    used = [k for k in names if any(r["work"][k] for r in runs)]
    # Unknowns x[k] = cost[k] / prior[k]: each column is then the share of
    # a workload's instructions that kind of work would take at the prior
    # price, so the normal equations stay well conditioned.
    A = [[r["work"][k] * prior[k] / r["instructions"] for k in used] for r in runs]
    b = [1.0] * len(runs)
    for i in range(len(used)):
        row = [0.0] * len(used)
        row[i] = strength ** 0.5
        A.append(row)
        b.append(strength ** 0.5)
    x = nnls(A, b)
    return {k: x[i] * prior[k] for i, k in enumerate(used)}


def predict(costs: dict[str, float], run: dict) -> float:
    return sum(run["work"][k] * costs.get(k, 0.0) for k in run["work"])


def table_toml(cycles: dict[str, float], source: dict[str, str]) -> str:
    lines = ["# Veridian host CPU cost table (docs/cpu.md): cycles per operation, or per",
             "# byte for copy_bytes and csum_bytes. Written by python -m veridian.tools.calibrate.",
             "[source]"]
    lines += [f'{k} = "{v}"' for k, v in source.items()]
    lines += ["", "[cycles]"]
    lines += [f"{k} = {v:.4g}" for k, v in cycles.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m veridian.tools.calibrate", description=__doc__.split("\n\n")[0])
    p.add_argument("--ipc", type=float, default=1.0, help="instructions per cycle (default 1.0)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[3] / "bench" / "cpu_costs.toml"))
    p.add_argument("--install", action="store_true",
                   help="also write the table to the source tree's host/data/cpu_costs.toml (the shipped default)")
    p.add_argument("--quick", action="store_true", help=f"workloads {QUICK_SCALE}x smaller")
    p.add_argument("--max-error", type=float, default=0.10, help="validation error that fails the run")
    p.add_argument("--prior-weight", type=float, default=1e-2,
                   help="pull towards the previous table (relative to one workload's relative error)")
    a = p.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (apt-get install valgrind)")
    if not a.ipc > 0:
        raise SystemExit("--ipc must be > 0")
    from veridian import cpus as vcpus
    names = vcpus.work_names()
    old = vcpus.default_cost_table()["cycles"]
    prior = {k: max(old[k] * a.ipc, 1e-3) for k in names}  # instructions
    scale = QUICK_SCALE if a.quick else 1

    runs = []
    for name, args in CALIBRATION:
        r = measure(_scaled(args, scale))
        r["name"] = name
        runs.append(r)
        print(f"  calibration {name:22s} {r['instructions']:>12,d} instructions")
    instr = fit(runs, names, prior, a.prior_weight)
    cycles = {k: (instr[k] / a.ipc if k in instr else old[k]) for k in names}
    kept = [k for k in names if k not in instr]

    print("Fit (instructions per operation, per byte for *_bytes):")
    for k in names:
        note = "  (not exercised: previous price kept)" if k in kept else ""
        print(f"  {k:12s} {instr.get(k, prior[k]):10.3f}{note}")
    residuals = {r["name"]: predict(instr, r) / r["instructions"] - 1 for r in runs}
    print("Calibration residuals: " + ", ".join(f"{n} {e:+.1%}" for n, e in residuals.items()))

    validation = []
    worst = 0.0
    for name, args in VALIDATION:
        r = measure(_scaled(args, scale))
        pred = predict(instr, r)
        err = pred / r["instructions"] - 1
        worst = max(worst, abs(err))
        validation.append({"name": name, "args": args, "measured": r["instructions"], "predicted": pred, "error": err})
        print(f"  validation {name:24s} callgrind {r['instructions']:>12,d}  model {pred:>14,.0f}  error {err:+.1%}")

    source = {"method": "callgrind instruction counts of vd_cpu_workload, NNLS fit (veridian.tools.calibrate)",
              "ipc": f"{a.ipc}", "workloads": ", ".join(n for n, _ in CALIBRATION),
              "validation_worst_error": f"{worst:.1%}",
              "kept_from_previous": ", ".join(kept) or "none"}
    text = table_toml(cycles, source)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    vcpus._core.parse_cost_table(text, str(out))  # what we wrote must load
    report = {"ipc": a.ipc, "instructions": instr, "cycles": cycles, "kept": kept, "residuals": residuals,
              "calibration": [{k: r[k] for k in ("name", "instructions", "work")} for r in runs],
              "validation": validation}
    out.with_suffix(".json").write_text(json.dumps(report, indent=1))
    print(f"(table in {out}, report in {out.with_suffix('.json')})")
    if a.install:
        src = Path(__file__).resolve()
        shipped = None
        for parent in src.parents:  # the build tree links back to the sources through CMake; find them
            cand = parent / "host" / "data" / "cpu_costs.toml"
            if cand.exists() and (parent / "CMakeLists.txt").exists():
                shipped = cand
                break
        if shipped is None:
            raise SystemExit("--install: host/data/cpu_costs.toml not found above the package")
        shipped.write_text(text)
        print(f"(installed as {shipped}; rebuild to compile it in)")
    if worst > a.max_error:
        print(f"validation error {worst:.1%} exceeds {a.max_error:.0%}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
