"""The HTML report: one self-contained file (plots embedded as PNG) from
result records -- a table per workload kind, and for sweeps throughput,
CPU cycles per byte and latency against the swept settings."""
from __future__ import annotations

import base64
import html
import io

from . import results


def _plot_png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _plots(records: list[dict]) -> list[tuple[str, str]]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    out = []
    ok = [r for r in records if "error" not in r]
    kinds = sorted({w["kind"] for r in ok for w in r["workloads"]})
    labels = [results.label(r) for r in ok]
    for kind in kinds:
        metric = {"tcp_bulk": "goodput_gbps", "udp": "goodput_gbps", "tcp_rr": "transactions_per_s",
                  "ping": None}[kind]
        ws = [[w for w in r["workloads"] if w["kind"] == kind] for r in ok]
        if metric:
            fig, ax = plt.subplots(figsize=(7, 0.4 * len(ok) + 1.5))
            ax.barh(labels, [sum(w[metric] for w in x) for x in ws], color="#3a7")
            ax.set_xlabel(metric.replace("_", " "))
            ax.set_title(f"{kind}: {metric.replace('_', ' ')} per point")
            out.append((f"{kind}: {metric}", _plot_png(fig)))
        if metric:
            out += _against_numeric(plt, ok, ws, kind, metric)
        hosts = sorted({h for x in ws for w in x for h, c in (w.get("cpu") or {}).items() if c})
        if hosts:
            fig, ax = plt.subplots(figsize=(7, 0.4 * len(ok) + 1.5))
            height = 0.8 / len(hosts)
            for j, h in enumerate(hosts):
                vals = [sum((w["cpu"][h] or {}).get("cycles_per_byte") or 0 for w in x) for x in ws]
                ax.barh([i + j * height for i in range(len(ok))], vals, height=height, label=h)
            ax.set_yticks([i + 0.4 - height / 2 for i in range(len(ok))], labels)
            ax.set_xlabel("host CPU cycles per byte")
            ax.legend()
            ax.set_title(f"{kind}: host CPU per byte")
            out.append((f"{kind}: host CPU cycles per byte", _plot_png(fig)))
        out += _engine_plot(plt, labels, ws, kind)
        samples = [(lab, s) for lab, x in zip(labels, ws) for w in x if (s := w.get("latency_samples_ns"))]
        if samples:
            fig, ax = plt.subplots(figsize=(7, 4))
            for lab, s in samples:
                s = sorted(s)
                ax.step([v / 1e3 for v in s], [(i + 1) / len(s) for i in range(len(s))], where="post", label=lab)
            ax.set_xlabel("latency (us)")
            ax.set_ylabel("fraction")
            ax.set_title(f"{kind}: latency CDF")
            ax.legend(fontsize=7)
            out.append((f"{kind}: latency CDF", _plot_png(fig)))
    return out


def _engine_plot(plt, labels: list[str], ws: list[list[dict]], kind: str) -> list[tuple[str, str]]:
    """Each RTL NIC engine's busy share (host:engine rows), one bar per point."""
    rows = sorted({(h, e) for x in ws for w in x for h, n in (w.get("nic") or {}).items()
                   for e in (n.get("engine_utilisation") or {})})
    if not rows:
        return []
    fig, ax = plt.subplots(figsize=(7, 0.25 * len(rows) * max(1, len(labels)) / 2 + 1.5))
    height = 0.8 / len(labels)
    for j, (lab, x) in enumerate(zip(labels, ws)):
        vals = [max((((w.get("nic") or {}).get(h) or {}).get("engine_utilisation") or {}).get(e, 0.0) for w in x)
                if x else 0.0 for h, e in rows]
        ax.barh([i + j * height for i in range(len(rows))], vals, height=height, label=lab)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(rows))], [f"{h}: {e}" for h, e in rows], fontsize=7)
    ax.set_xlabel("share of NIC cycles busy")
    ax.set_xlim(0, 1)
    ax.legend(fontsize=7)
    ax.set_title(f"{kind}: NIC engine utilisation")
    return [(f"{kind}: NIC engine utilisation", _plot_png(fig))]


def _against_numeric(plt, recs: list[dict], ws: list[list[dict]], kind: str, metric: str) -> list[tuple[str, str]]:
    """For each swept key with numeric values: the metric against it, one
    line per combination of the other swept keys."""
    out = []
    ovs = [r.get("overrides") or {} for r in recs]
    keys = sorted({k for ov in ovs for k in ov})
    for key in keys:
        vals = [ov.get(key) for ov in ovs]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals) or len(set(vals)) < 2:
            continue
        lines: dict[str, list] = {}
        for ov, x in zip(ovs, ws):
            rest = ", ".join(f"{k}={v}" for k, v in ov.items() if k != key) or kind
            lines.setdefault(rest, []).append((ov[key], sum(w[metric] for w in x)))
        fig, ax = plt.subplots(figsize=(7, 4))
        for name, pts in lines.items():
            pts.sort()
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
        ax.set_xlabel(key)
        ax.set_ylabel(metric.replace("_", " "))
        ax.set_title(f"{kind}: {metric.replace('_', ' ')} against {key}")
        ax.legend(fontsize=7)
        out.append((f"{kind}: {metric} against {key}", _plot_png(fig)))
    return out


def render(records: list[dict], title: str = "Veridian evaluation") -> str:
    rows = [r for rec in records for r in results.rows(rec)]
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else html.escape(str(v if v is not None else ""))
    table = "<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>"
    table += "".join("<tr>" + "".join(f"<td>{fmt(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    table += "</table>"
    plots = "".join(f'<figure><img alt="{html.escape(t)}" src="data:image/png;base64,{png}">'
                    f"<figcaption>{html.escape(t)}</figcaption></figure>" for t, png in _plots(records))
    if not plots:
        plots = "<p>No plots: matplotlib is not installed (apt-get install python3-matplotlib).</p>"
    meta = "".join(f"<li>{html.escape(results.label(r))}: scenario {html.escape(str(r.get('scenario_sha256', ''))[:12])}, "
                   f"seed {r.get('seed')}, commit {html.escape(str(r.get('git_commit') or '?')[:12])}, "
                   f"wall {r.get('wall_s', 0):.1f} s</li>" for r in records if "error" not in r)
    errors = "".join(f"<li>{html.escape(results.label(r))}: {html.escape(r['error'])}</li>" for r in records if "error" in r)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}figure{{display:inline-block;margin:1em}}</style>
</head><body><h1>{html.escape(title)}</h1>
<h2>Results</h2>{table}
<h2>Plots</h2>{plots}
<h2>Runs</h2><ul>{meta}</ul>{'<h2>Failed points</h2><ul>' + errors + '</ul>' if errors else ''}
<script>
// Marks how many plots decoded, so a headless browser can check the page.
window.addEventListener("load", () => {{
  const imgs = [...document.images];
  document.body.dataset.images = imgs.length;
  document.body.dataset.imagesOk = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
}});
</script>
</body></html>
"""
