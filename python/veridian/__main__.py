"""The `veridian` command: `python -m veridian SUBCOMMAND ...`.

    run SCENARIO [--set k=v ...] [--out result.json]     one run, its result as JSON
    sweep SCENARIO --set k=v1,v2 ... --out DIR [--jobs N | --dask ADDRESS|local]
    report RESULTS... [--out report.html]                the HTML report (plots embedded)
    compare A B                                          metric by metric, B against A
    demo | linerate | tcpbench | cpubench | calibrate | tap   the other tools

Exit status: 0 done; 1 a run or a sweep point failed; 2 bad usage or a bad
scenario (the message names the file, line and key).
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

TOOLS = ("evaluate", "demo", "linerate", "tcpbench", "cpubench", "calibrate", "tap")


def _sets(items: list[str], many: bool) -> list[tuple[str, list]]:
    from .eval.scenario import ScenarioError, parse_value
    out = []
    for it in items or []:
        if "=" not in it:
            raise ScenarioError("--set", it, "expected key=value" + ("[,value...]" if many else ""))
        k, v = it.split("=", 1)
        vals = [parse_value(x) for x in v.split(",")] if many else [parse_value(v)]
        out.append((k.strip(), vals))
    return out


def _cmd_run(a) -> int:
    from .eval import results, runner, scenario
    sc = scenario.load(a.scenario, {k: v[0] for k, v in _sets(a.set, False)})
    rec = runner.run(sc)
    rec["overrides"] = {k: v[0] for k, v in _sets(a.set, False)}
    if a.out:
        results.save(rec, a.out)
    for row in results.rows(rec):
        print(json.dumps(row))
    if a.csv:
        Path(a.csv).write_text(results.to_csv([rec]))
    return 0


def _cmd_sweep(a) -> int:
    from .eval import results, sweep
    sets = _sets(a.set, True)
    if not sets:
        print("sweep: give at least one --set key=v1,v2", file=sys.stderr)
        return 2
    recs = sweep.sweep(a.scenario, sets, a.out, jobs=a.jobs, dask=a.dask, progress=not a.no_progress)
    failed = [r for r in recs if "error" in r]
    for r in recs:
        for row in results.rows(r):
            print(json.dumps(row))
    print(f"{len(recs)} points, {len(failed)} failed; results in {a.out}/results.csv and {a.out}/points/",
          file=sys.stderr)
    return 1 if failed else 0


def _cmd_report(a) -> int:
    from .eval import report, results
    recs = results.load_all(a.results)
    Path(a.out).write_text(report.render(recs, a.title))
    print(f"report: {a.out} ({len(recs)} runs)")
    return 0


def _cmd_compare(a) -> int:
    from .eval import results
    ra, rb = results.load_all([a.a]), results.load_all([a.b])
    if len(ra) != 1 or len(rb) != 1:
        print("compare: give two result files (one run each)", file=sys.stderr)
        return 2
    print(f"{'metric':60s} {'A':>14s} {'B':>14s} {'B/A':>8s}")
    for k, va, vb, ratio in results.compare(ra[0], rb[0]):
        print(f"{k:60s} {va:14.6g} {vb:14.6g} {ratio:8.3f}" if ratio is not None else f"{k:60s} {va:14.6g} {vb:14.6g}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in TOOLS:
        return importlib.import_module(f"veridian.tools.{argv[0]}").main(argv[1:]) or 0
    p = argparse.ArgumentParser(prog="veridian", description=__doc__.split("\n\n")[0],
                                epilog="Tools: " + ", ".join(TOOLS) + " (each takes --help).")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run one scenario")
    r.add_argument("scenario")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key (e.g. host.*.nic.tso=false)")
    r.add_argument("--out", help="write the result record (JSON) here")
    r.add_argument("--csv", help="write the result rows as CSV here")
    r.set_defaults(fn=_cmd_run)
    s = sub.add_parser("sweep", help="run a scenario over the product of --set values")
    s.add_argument("scenario")
    s.add_argument("--set", action="append", metavar="KEY=V1,V2", required=True)
    s.add_argument("--out", required=True, help="directory for points/*.json, results.csv (resumes if present)")
    s.add_argument("--jobs", type=int, default=1, help="local worker processes (default 1: in this process)")
    s.add_argument("--dask", metavar="ADDRESS", help="run the points on a Dask scheduler, or `local` for a LocalCluster")
    s.add_argument("--no-progress", action="store_true")
    s.set_defaults(fn=_cmd_sweep)
    rp = sub.add_parser("report", help="the HTML report of result files or sweep directories")
    rp.add_argument("results", nargs="+")
    rp.add_argument("--out", default="report.html")
    rp.add_argument("--title", default="Veridian evaluation")
    rp.set_defaults(fn=_cmd_report)
    c = sub.add_parser("compare", help="compare two result files")
    c.add_argument("a")
    c.add_argument("b")
    c.set_defaults(fn=_cmd_compare)
    a = p.parse_args(argv)
    from .eval.scenario import ScenarioError
    try:
        return a.fn(a)
    except ScenarioError as e:
        print(f"veridian: {e}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as e:
        print(f"veridian: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        print(f"veridian: run failed: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
