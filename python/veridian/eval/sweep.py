"""Sweeps: a scenario run over the product of `--set key=v1,v2` values, in
this process, in local worker processes, or on a Dask cluster. Each point
is kept as points/<id>.json in the output directory as soon as it is done,
so an interrupted sweep resumes where it stopped; a point that fails is
kept with its error and the others go on. A point's result does not depend
on which executor ran it (only wall_s differs)."""
from __future__ import annotations

import hashlib
import itertools
import json
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from . import results
from .runner import SCHEMA, _git_commit, run
from .scenario import ScenarioError, load


def points(sets: list[tuple[str, list]]) -> list[dict]:
    """Every combination of the swept values, in a fixed order."""
    keys = [k for k, _ in sets]
    return [dict(zip(keys, combo)) for combo in itertools.product(*(v for _, v in sets))]


def point_id(scenario_text: str, overrides: dict, commit: str | None = None) -> str:
    """Names a point by its scenario, its overrides and the code's commit,
    so a resumed sweep never reuses a result another build made."""
    h = hashlib.sha256(scenario_text.encode() + json.dumps(overrides, sort_keys=True).encode() +
                       (commit or "").encode())
    return h.hexdigest()[:16]


def run_point(path: str, overrides: dict) -> dict:
    """One point; never raises (the error goes into the record)."""
    try:
        rec = run(load(path, overrides))
    except ScenarioError as e:
        rec = {"schema": SCHEMA, "error": str(e)}
    except Exception as e:  # a failed run must not take the sweep down
        rec = {"schema": SCHEMA, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
    rec["overrides"] = overrides
    return rec


def _progress(total: int, enabled: bool):
    if enabled and sys.stderr.isatty():
        try:
            from tqdm import tqdm
            return tqdm(total=total, unit="point", file=sys.stderr)
        except ImportError:
            pass
    return None


def sweep(path: str, sets: list[tuple[str, list]], out_dir: str, jobs: int = 1, dask: str | None = None,
          progress: bool = True, explicit: list[dict] | None = None) -> list[dict]:
    """Runs the points not yet in out_dir; returns every point's record in
    order. The points are the product of `sets`, or `explicit` (a list of
    override dicts) when given."""
    path = str(Path(path).resolve())  # every executor records the same origin
    text = Path(path).read_text()
    # Validate every point before running any, so a bad value fails at once.
    pts = explicit if explicit is not None else points(sets)
    for ov in pts:
        load(path, ov)
    out = Path(out_dir)
    (out / "points").mkdir(parents=True, exist_ok=True)
    commit = _git_commit()
    ids = [point_id(text, ov, commit) for ov in pts]
    todo = [(i, ov) for i, (pid, ov) in enumerate(zip(ids, pts)) if not (out / "points" / f"{pid}.json").exists()]
    bar = _progress(len(pts), progress)
    if bar:
        bar.update(len(pts) - len(todo))

    def keep(i, rec):
        rec["point_id"] = ids[i]
        results.save(rec, out / "points" / f"{ids[i]}.json")
        if bar:
            bar.update(1)

    if dask:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SystemExit("--dask needs Dask (apt-get install python3-distributed)") from None
        cluster = LocalCluster(n_workers=max(jobs, 1), threads_per_worker=1, processes=True) if dask == "local" else None
        client = Client(cluster if cluster else dask)
        try:
            futs = {client.submit(run_point, path, ov, pure=False): i for i, ov in todo}
            from distributed import as_completed as dask_completed
            for f in dask_completed(futs):
                keep(futs[f], f.result())
        finally:
            client.close()
            if cluster:
                cluster.close()
    elif jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as ex:
            futs = {ex.submit(run_point, path, ov): i for i, ov in todo}
            for f in as_completed(futs):
                keep(futs[f], f.result())
    else:
        for i, ov in todo:
            keep(i, run_point(path, ov))
    if bar:
        bar.close()
    recs = [json.loads((out / "points" / f"{pid}.json").read_text()) for pid in ids]
    (out / "results.json").write_text(json.dumps({"schema": "veridian.sweep/1", "scenario": str(path),
                                                  "sets": sets, "points": ids}, indent=1))
    (out / "results.csv").write_text(results.to_csv(recs))
    return recs
