"""The evaluation tool (python -m veridian; docs/evaluation.md): scenario
validation, runs, sweeps in one process and in worker processes, resume,
failed points, reports and the command's exit codes."""
import base64
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from veridian.eval import ScenarioError, parse, results, run
from veridian.eval import report as vreport
from veridian.eval import sweep as vsweep

ROOT = Path(__file__).resolve().parents[2]
SMALL = """
seed = 3
[[host]]
name = "a"
address = "10.0.0.1/24"
nic = { kind = "soft", queues = 2 }
cpus = { cores = 2 }

[[host]]
name = "b"
address = "10.0.0.2/24"
nic = { kind = "soft", queues = 2 }
cpus = { cores = 2 }

[[link]]
a = "a"
b = "b"

[[workload]]
kind = "tcp_bulk"
from = "a"
to = "b"
flows = 2
bytes = 200_000

[[workload]]
kind = "tcp_rr"
from = "a"
to = "b"
count = 20

[[workload]]
kind = "ping"
from = "b"
to = "a"
count = 5
"""


def ln(text, needle, nth=1):
    """The 1-based line of the nth line containing needle."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def err(text, **ov):
    with pytest.raises(ScenarioError) as e:
        parse(text, "s.toml", ov or None)
    return str(e.value)


def test_every_bad_key_type_or_value_is_named_with_its_line():
    t = SMALL.replace('kind = "tcp_rr"', 'kind = "tcp_rrr"')
    assert err(t) == f"s.toml:{ln(t, 'tcp_rrr')}: workload.1.kind: 'tcp_rrr' must be tcp_bulk, tcp_rr, udp or ping"
    t = SMALL.replace("flows = 2", "flowz = 2")
    assert err(t) == f"s.toml:{ln(t, 'flowz')}: workload.0.flowz: unknown key (did you mean 'flows'?)"
    t = SMALL.replace("bytes = 200_000", 'bytes = "lots"')
    assert err(t) == f"s.toml:{ln(t, 'lots')}: workload.0.bytes: must be int, not str 'lots'"
    t = SMALL.replace('to = "b"\nflows', 'to = "c"\nflows')
    to_c = 'to = "c"'
    assert err(t) == f"s.toml:{ln(t, to_c)}: workload.0.to: no host named 'c' (hosts: a, b)"
    t = SMALL.replace('name = "b"', 'name = "a"')
    name_a = 'name = "a"'
    assert err(t) == f"s.toml:{ln(t, name_a, 2)}: host.1.name: 'a' is used twice"
    t = SMALL.replace('address = "10.0.0.2/24"\n', '')
    assert err(t) == "s.toml:0: host.1.address: missing"  # a key that is not there has no line
    t = SMALL.replace("queues = 2 }", "queues = 99 }", 1)
    assert err(t) == f"s.toml:{ln(t, 'queues = 99')}: host.0.nic.queues: 99 must be 1..16"
    assert err("seed = 1\nx = = 2\n").startswith("s.toml:2: not TOML")
    assert err(SMALL, **{"host.*.cpus.ghz": -1.0}).endswith("host.0.cpus.ghz: -1.0 must be > 0")
    with pytest.raises(ScenarioError, match="is not an index"):
        parse(SMALL, "s.toml", {"host.7.nic.tso": False})


def test_a_run_repeats_exactly_and_agrees_with_the_counters():
    sc = parse(SMALL, "small.toml")
    r1, r2 = run(sc), run(sc)
    for r in (r1, r2):
        r.pop("wall_s")
    assert r1 == r2
    bulk, rr, ping = r1["workloads"]
    assert bulk["bytes"] == 400_000 and bulk["goodput_gbps"] == pytest.approx(400_000 * 8 / bulk["duration_ns"])
    # SoftNics have no cycles; an RTL NIC would report busy_share.
    assert "busy_share" not in bulk["nic"]["b"]
    # b's NIC received at least every payload byte of the bulk transfer, in at least that many segments.
    assert bulk["nic"]["b"]["rx_bytes"] > 400_000 and bulk["nic"]["b"]["rx_packets"] >= 400_000 // 1448
    # The host CPU figures are the cores' own: cycles = busy ns x GHz.
    cpu_b = bulk["cpu"]["b"]
    assert cpu_b["cycles"] == pytest.approx(cpu_b["busy_cores"] * bulk["duration_ns"] * 3.0)
    # The wire from a to b was busy for the goodput's share of 100 Gb/s, and then some (headers, gaps).
    assert bulk["goodput_gbps"] / 100 < bulk["link_utilisation"]["a->b"] < 1
    assert bulk["link_utilisation"]["b->a"] < bulk["link_utilisation"]["a->b"] / 5  # ACKs
    assert rr["transactions"] == 20 and len(rr["latency_samples_ns"]) == 20
    assert rr["latency_ns"]["p50"] <= rr["latency_ns"]["p99"] <= rr["latency_ns"]["max"]
    assert ping["received"] == 5
    assert r1["scenario_sha256"] == sc.sha256 and r1["seed"] == 3
    assert r1["build"]["build_type"] and r1["build"]["compiler"].startswith("GNU")
    assert r1["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", r1["git_commit"])


def test_a_sweep_gives_the_same_points_in_one_process_and_in_workers_and_resumes(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    sets = [("host.*.nic.tso", [False, True]), ("workload.0.flows", [1, 2])]
    serial = vsweep.sweep(str(path), sets, str(tmp_path / "serial"), jobs=1, progress=False)
    par = vsweep.sweep(str(path), sets, str(tmp_path / "par"), jobs=2, progress=False)
    strip = lambda rs: [{k: v for k, v in r.items() if k != "wall_s"} for r in rs]
    assert len(serial) == 4 and strip(serial) == strip(par)
    assert serial[0]["workloads"][0]["goodput_gbps"] != serial[1]["workloads"][0]["goodput_gbps"]
    # Resume: only the missing point runs again.
    pts = sorted((tmp_path / "serial" / "points").glob("*.json"))
    stamps = {p: p.stat().st_mtime_ns for p in pts}
    pts[0].unlink()
    again = vsweep.sweep(str(path), sets, str(tmp_path / "serial"), jobs=1, progress=False)
    assert strip(again) == strip(serial)
    assert all(p.stat().st_mtime_ns == stamps[p] for p in pts[1:])
    csv = (tmp_path / "serial" / "results.csv").read_text().splitlines()
    assert csv[0].startswith("point,workload,kind,set.host.*.nic.tso,set.workload.0.flows") and len(csv) == 1 + 4 * 3


def test_a_failed_point_is_kept_with_its_error_and_the_others_run(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    recs = vsweep.sweep(str(path), [("measure.max_ms", [1000.0, 0.001])], str(tmp_path / "out"), progress=False)
    assert "error" not in recs[0]
    assert recs[1]["error"].startswith("TimeoutError: connect") and recs[1]["overrides"] == {"measure.max_ms": 0.001}


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.pngs, self.figcaptions, self._cap = [], [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img" and a.get("src", "").startswith("data:image/png;base64,"):
            self.pngs.append(base64.b64decode(a["src"].split(",", 1)[1]))
        self._cap = tag == "figcaption"

    def handle_data(self, data):
        if self._cap:
            self.figcaptions.append(data)
            self._cap = False


def test_the_report_is_one_file_with_every_plot(tmp_path):
    pytest.importorskip("matplotlib", reason="python3-matplotlib (scripts/setup.sh installs it)")
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    vsweep.sweep(str(path), [("host.*.nic.tso", [False, True])], str(tmp_path / "s"), progress=False)
    page = vreport.render(results.load_all([str(tmp_path / "s")]))
    p = _Images()
    p.feed(page)
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in p.pngs)
    assert p.figcaptions == ["ping: host CPU cycles per byte", "ping: latency CDF",
                             "tcp_bulk: goodput_gbps", "tcp_bulk: host CPU cycles per byte",
                             "tcp_rr: transactions_per_s", "tcp_rr: host CPU cycles per byte", "tcp_rr: latency CDF"]
    assert "host.*.nic.tso=True" in page and "http" not in page.split("<body>")[1].replace("https://", "")


def veridian(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "build" / "python"))
    return subprocess.run([sys.executable, "-m", "veridian", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def test_the_command_exit_codes_and_messages(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.replace("flows = 2", "flows = 0"))
    r = veridian("run", str(bad))
    assert r.returncode == 2 and f"{bad}:{ln(SMALL, 'flows = 2')}: workload.0.flows: 0 must be 1..256" in r.stderr
    assert veridian("run", str(tmp_path / "missing.toml")).returncode == 2
    assert veridian("--help").returncode == 0 and "sweep" in veridian("--help").stdout
    assert veridian("linerate", "--help").returncode == 0
    good = tmp_path / "good.toml"
    good.write_text(SMALL)
    r = veridian("run", str(good), "--set", "workload.0.bytes=100000", "--out", str(tmp_path / "r.json"))
    assert r.returncode == 0, r.stderr
    rec = json.loads((tmp_path / "r.json").read_text())
    assert rec["workloads"][0]["bytes"] == 200_000 and rec["overrides"] == {"workload.0.bytes": 100000}
    r = veridian("compare", str(tmp_path / "r.json"), str(tmp_path / "r.json"))
    assert r.returncode == 0 and re.search(r"goodput_gbps .* 1\.000", r.stdout)


def test_the_example_scenarios_are_valid():
    from veridian.eval import load
    for p in sorted((ROOT / "examples" / "scenarios").glob("*.toml")):
        load(str(p))


def test_the_main_jobs_evaluation_prints_what_each_offload_buys(tmp_path):
    r = veridian("evaluate", "--out", str(tmp_path / "ev"))
    assert r.returncode == 0, r.stderr
    rows = [line.split("|")[1:-1] for line in r.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    got = {(c[0].strip(), c[1].strip()): c for c in rows[1:]}
    assert len(got) == 9
    gbps = lambda off: float(got[(off, "tcp_bulk")][2].split()[0])
    assert gbps("none") < gbps("checksums") < gbps("checksums + TSO")
    sender_cpb = lambda off: float(got[(off, "tcp_bulk")][3])
    assert sender_cpb("checksums + TSO") * 2 < sender_cpb("none")
    assert (tmp_path / "ev" / "report.html").read_text().count("<img") >= 6
    # The RTL NICs' own figures: busy share, and DMA reads that take at least
    # the PCIe Gen4 model's 500 ns (125 cycles at 250 MHz).
    rec = results.load_all([str(tmp_path / "ev")])[2]
    nic = rec["workloads"][0]["nic"]["a"]
    assert 0 < nic["busy_share"] < 1 and nic["dma_read_latency_cycles_mean"] >= 125
    # Engines and PCIe: the sender's NIC read every payload byte down and kept
    # its TX engines busy; the receiver's wrote every byte up through its RX
    # engines. TLP bytes are payload plus 24 bytes of overhead each.
    bulk = rec["workloads"][0]
    a, b = bulk["nic"]["a"], bulk["nic"]["b"]
    assert a["pcie"]["down"]["payload_bytes"] >= bulk["bytes"] and b["pcie"]["up"]["payload_bytes"] >= bulk["bytes"]
    for n in (a, b):
        for d in ("up", "down"):
            assert n["pcie"][d]["bytes"] == n["pcie"][d]["payload_bytes"] + 24 * n["pcie"][d]["tlps"]
            assert 0 <= n["pcie"][d]["utilisation"] < 1
    ea, eb = a["engine_utilisation"], b["engine_utilisation"]
    assert set(ea) == {"tx_fetch", "tx_read", "tx_header", "tx_emit", "tx_cpl", "rx_mac", "rx_rss", "rx_proc"}
    assert ea["tx_emit"] > eb["tx_emit"] and eb["rx_mac"] > ea["rx_mac"] and eb["rx_proc"] > ea["rx_proc"]
    # 10 Gb/s on a 128 Gb/s datapath keeps emit busy at least that share of cycles.
    assert ea["tx_emit"] >= bulk["goodput_gbps"] / 128
    assert "NIC engine utilisation" in (tmp_path / "ev" / "report.html").read_text()


def test_the_report_renders_in_headless_chromium(tmp_path):
    import shutil
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("chromium is not installed (scripts/setup.sh installs it)")
    pytest.importorskip("matplotlib", reason="python3-matplotlib (scripts/setup.sh installs it)")
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    vsweep.sweep(str(path), [("host.*.nic.tso", [False, True])], str(tmp_path / "s"), progress=False)
    page = tmp_path / "report.html"
    page.write_text(vreport.render(results.load_all([str(tmp_path / "s")])))
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000",
                        "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    m = re.search(r'<body data-images="(\d+)" data-images-ok="(\d+)">', r.stdout)
    assert m, r.stdout[:500]
    assert int(m.group(1)) == 7 and m.group(1) == m.group(2)  # every plot decoded
    assert "Uncaught" not in r.stderr


def test_a_dask_local_cluster_gives_the_same_points(tmp_path):
    pytest.importorskip("distributed", reason="python3-distributed (scripts/setup.sh installs it)")
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    sets = [("host.*.cpus.cores", [1, 2])]
    local = vsweep.sweep(str(path), sets, str(tmp_path / "serial"), progress=False)
    dask = vsweep.sweep(str(path), sets, str(tmp_path / "dask"), jobs=2, dask="local", progress=False)
    strip = lambda rs: [{k: v for k, v in r.items() if k != "wall_s"} for r in rs]
    assert strip(local) == strip(dask)


def test_size_mixes_and_both_directions():
    t = SMALL.replace("flows = 2\nbytes = 200_000", 'flows = 1\nbytes = 100_000\ndirection = "both"')
    t = t.replace('kind = "ping"\nfrom = "b"\nto = "a"\ncount = 5', 'kind = "udp"\nfrom = "b"\nto = "a"\ncount = 6\nsize = [64, 1000, 1472]')
    bulk, rr, udp = run(parse(t, "mix.toml"))["workloads"]
    assert bulk["bytes"] == 200_000  # 100,000 each way, at once
    assert bulk["nic"]["a"]["rx_bytes"] > 100_000 and bulk["nic"]["b"]["rx_bytes"] > 100_000
    assert udp["datagrams_received"] == 6 and udp["bytes"] == 2 * (64 + 1000 + 1472)
    assert err(SMALL.replace("count = 5", "count = 5\nsize = [64, 0]")).endswith("workload.2.size: [64, 0] must be sizes in 1..65507")
    assert "must be an int or a list of ints" in err(SMALL.replace("count = 5", 'count = 5\nsize = "big"'))
    assert "must be forward, reverse or both" in err(SMALL.replace("flows = 2", 'flows = 2\ndirection = "up"'))
    # Seeded distributions: the same seed draws the same sizes, another seed others.
    u = SMALL.replace("count = 20", "count = 20\nsize = { uniform = [64, 9000] }")
    a, b = parse(u).data["workload"][1]["size"], parse(u).data["workload"][1]["size"]
    c = parse(u.replace("seed = 3", "seed = 4")).data["workload"][1]["size"]
    assert a == b != c and len(a) == 20 and all(64 <= x <= 9000 for x in a)
    ch = parse(SMALL.replace("count = 20", "count = 20\nsize = { choice = [64, 1500], weights = [1, 0] }"))
    assert ch.data["workload"][1]["size"] == [64] * 20
    assert "is not a distribution" in err(SMALL.replace("count = 20", "count = 20\nsize = { uniform = [9, 2] }"))


SWITCHED = """
[[host]]
name = "a"
address = "10.0.0.1/24"
[[host]]
name = "b"
address = "10.0.0.2/24"
[[host]]
name = "c"
address = "10.0.0.3/24"
[[switch]]
name = "sw"
ports = 4
[[link]]
a = "a"
b = "sw"
[[link]]
a = "b"
b = "sw"
[[link]]
a = "c"
b = "sw"
[[workload]]
kind = "tcp_bulk"
from = "a"
to = "b"
bytes = 1_000_000
warmup_us = 100
[[workload]]
kind = "ping"
from = "c"
to = "a"
count = 3
"""


def test_request_response_in_a_time_window():
    t = SMALL.replace("count = 20", "warmup_us = 200\nduration_us = 1000")
    rr = run(parse(t, "rr.toml"))["workloads"][1]
    # Transactions that start inside the 1 ms window after a 200 us warm-up.
    assert 950_000 <= rr["duration_ns"] <= 1_050_000 and rr["transactions"] == len(rr["latency_samples_ns"]) > 10
    assert rr["transactions"] * 2 * 64 == rr["bytes"]
    assert rr["transactions_per_s"] == pytest.approx(rr["transactions"] / rr["duration_ns"] * 1e9)
    t = SMALL.replace("count = 5", "warmup_us = 50\nduration_us = 200\ninterval_us = 10")
    ping = run(parse(t, "ping.toml"))["workloads"][2]
    assert 5 <= ping["received"] == ping["sent"] == len(ping["latency_samples_ns"]) <= 20
    assert ping["bytes"] == 64 * ping["received"]


def test_switched_topologies_and_a_warm_up_window():
    bulk, ping = run(parse(SWITCHED, "sw.toml"))["workloads"]
    assert 0 < bulk["bytes"] < 1_000_000  # what arrived after the first 100 us
    assert bulk["goodput_gbps"] == pytest.approx(bulk["bytes"] * 8 / bulk["duration_ns"])
    assert ping["received"] == 3
    bad = SWITCHED.replace('b = "sw"\n[[link]]\na = "c"', 'b = "sx"\n[[link]]\na = "c"')
    assert err(bad).endswith("link.1.b: no host or switch named 'sx' (hosts or switches: a, b, c, sw)")
    assert "switch.0.name: 'a' is used twice" in err(SWITCHED.replace('name = "sw"', 'name = "a"'))
    with pytest.raises(RuntimeError, match="ended before its warm-up"):
        run(parse(SWITCHED.replace("warmup_us = 100", "warmup_us = 100000"), "sw.toml"))
