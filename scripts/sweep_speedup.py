#!/usr/bin/env python3
"""The same 64-point sweep run serially, in 2 local processes and on a
4-worker Dask LocalCluster: wall time of each and whether every point's
result is identical (wall_s aside). Not part of CI (about a minute).

    PYTHONPATH=build/python /usr/bin/python3 scripts/sweep_speedup.py
"""
import shutil
import sys
import tempfile
import time
from pathlib import Path

from veridian.eval import sweep

ROOT = Path(__file__).resolve().parents[1]
SETS = [("workload.0.bytes", [2_000_000 * k for k in range(1, 9)]), ("host.*.cpus.cores", [1, 2, 4, 8]),
        ("host.*.nic.tso", [False, True])]


def main() -> int:
    scen = str(ROOT / "examples" / "scenarios" / "rss_cores.toml")
    runs = {}
    with tempfile.TemporaryDirectory() as d:
        for name, kw in (("serial", dict(jobs=1)), ("2 processes", dict(jobs=2)),
                         ("Dask LocalCluster, 4 workers", dict(jobs=4, dask="local"))):
            t = time.monotonic()
            recs = sweep.sweep(scen, SETS, str(Path(d) / name.replace(" ", "_")), progress=False, **kw)
            runs[name] = (time.monotonic() - t, [{k: v for k, v in r.items() if k != "wall_s"} for r in recs])
            print(f"{name:30s} {len(recs)} points in {runs[name][0]:6.1f} s "
                  f"(speed-up {runs['serial'][0] / runs[name][0]:.2f}x)", flush=True)
    same = all(v[1] == runs["serial"][1] for v in runs.values())
    print("identical results:", same)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
