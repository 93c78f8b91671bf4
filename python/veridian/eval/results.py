"""Result records (schema "veridian.result/1", docs/evaluation.md): JSON
files, CSV rows, loading and comparing."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .runner import SCHEMA


def save(record: dict, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=1, sort_keys=True))


def load_all(paths: list[str]) -> list[dict]:
    """Records from result files and sweep directories (their points/)."""
    out = []
    for p in map(Path, paths):
        if p.is_dir() and (p / "results.json").exists():  # a sweep: its points in sweep order
            files = [p / "points" / f"{pid}.json" for pid in json.loads((p / "results.json").read_text())["points"]]
            files = [f for f in files if f.exists()]
        else:
            files = sorted((p / "points").glob("*.json")) if p.is_dir() else [p]
        if p.is_dir() and not files:
            raise ValueError(f"{p}: a directory without points/*.json (not a sweep's output)")
        for f in files:
            rec = json.loads(f.read_text())
            if rec.get("schema") != SCHEMA:
                raise ValueError(f"{f}: not a Veridian result (schema {rec.get('schema')!r}, expected {SCHEMA!r})")
            rec.setdefault("path", str(f))
            out.append(rec)
    return out


def label(rec: dict) -> str:
    ov = rec.get("overrides") or {}
    return ", ".join(f"{k}={v}" for k, v in ov.items()) or Path(rec.get("origin", "run")).stem


def rows(rec: dict) -> list[dict]:
    """One flat row per workload: what a CSV or a table shows."""
    out = []
    for w in rec.get("workloads", []):
        row = {"point": label(rec), "workload": w["index"], "kind": w["kind"]}
        row.update({f"set.{k}": v for k, v in (rec.get("overrides") or {}).items()})
        for k in ("goodput_gbps", "transactions_per_s", "duration_ns", "bytes", "retransmits", "loss"):
            if k in w:
                row[k] = w[k]
        if "latency_ns" in w:
            for q in ("p50", "p99"):
                row[f"latency_{q}_ns"] = w["latency_ns"][q]
        for host, c in (w.get("cpu") or {}).items():
            if c:
                row[f"{host}.cpu_cores_busy"] = c["busy_cores"]
                row[f"{host}.cycles_per_byte"] = c["cycles_per_byte"]
        for d, u in (w.get("link_utilisation") or {}).items():
            row[f"link.{d}.utilisation"] = u
        for host, n in (w.get("nic") or {}).items():
            for k in ("tx_packets", "rx_packets", "dma_read_bytes", "dma_write_bytes", "cycles_evaluated", "irqs",
                      "rx_drop_no_desc", "rx_drop_no_buffer", "busy_share", "dma_read_latency_cycles_mean"):
                if k in n:
                    row[f"{host}.nic.{k}"] = n[k]
            for e, u in (n.get("engine_utilisation") or {}).items():
                row[f"{host}.nic.engine.{e}"] = u
            for d, p in (n.get("pcie") or {}).items():
                row[f"{host}.nic.pcie_{d}_tlps"] = p["tlps"]
                row[f"{host}.nic.pcie_{d}_utilisation"] = p["utilisation"]
        out.append(row)
    if "error" in rec:
        out.append({"point": label(rec), "error": rec["error"]})
    return out


def to_csv(records: list[dict]) -> str:
    all_rows = [r for rec in records for r in rows(rec)]
    cols: list[str] = []
    for r in all_rows:
        cols += [k for k in r if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols)
    w.writeheader()
    w.writerows(all_rows)
    return buf.getvalue()


def compare(a: dict, b: dict) -> list[tuple[str, float, float, float | None]]:
    """(metric, A, B, B/A) for every numeric field both have, workload by workload."""
    ra, rb = rows(a), rows(b)
    out = []
    for x, y in zip(ra, rb):
        for k, va in x.items():
            vb = y.get(k)
            if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and not isinstance(va, bool):
                out.append((f"workload {x['workload']} {x['kind']}: {k}", va, vb, vb / va if va else None))
    return out
