"""Runs one scenario (scenario.py) and measures it: a result record as
docs/evaluation.md describes (schema "veridian.result/1")."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import veridian as vd

from .scenario import Scenario

SCHEMA = "veridian.result/1"


def _nic(spec: dict):
    common = dict(queues=spec["queues"], mtu=spec["mtu"], tx_csum=spec["tx_csum"], tso=spec["tso"],
                  rx_csum=spec["rx_csum"], irq_frames=spec["irq_frames"],
                  irq_delay_ns=spec["irq_delay_ns"] if spec["irq_frames"] > 1 else 0.0)
    if spec["kind"] == "rtl":
        return vd.RtlNic(data_width=spec["width"], dma=spec["dma"], **common)
    return vd.SoftNic(**common)


def _percentiles(xs: list[float]) -> dict:
    if not xs:
        return {"p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    s = sorted(xs)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]
    return {"p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "max": s[-1], "mean": sum(s) / len(s)}


class _Run:
    def __init__(self, sc: Scenario):
        self.sc = sc
        d = sc.data
        self.sim = vd.Simulation(seed=d["seed"])
        self.hosts = {}
        for h in d["host"]:
            cpus = vd.Cpus(cores=h["cpus"]["cores"], ghz=h["cpus"]["ghz"]) if h["cpus"] else None
            host = self.sim.add_host(h["name"], nic=_nic(h["nic"]), cpus=cpus)
            host.add_address(h["address"])
            self.hosts[h["name"]] = host
        ends = dict(self.hosts)
        for sw in d["switch"]:
            ends[sw["name"]] = self.sim.add_switch(sw["name"], ports=sw["ports"], latency_ns=sw["latency_ns"])
        self.links = []
        for ln in d["link"]:
            faults = vd.LinkFaults(**ln["faults"]) if ln["faults"] else None
            self.links.append(self.sim.connect(ends[ln["a"]], ends[ln["b"]], rate_gbps=ln["rate_gbps"],
                                               latency_ns=ln["latency_ns"], faults=faults))
        self.deadline_ns = d["measure"]["max_ms"] * 1e6

    def addr(self, name: str) -> str:
        return self.sc.host(name)["address"].split("/")[0]

    def mark(self) -> float:
        """The start of a workload's measured phase (after its set-up):
        counters are taken from here."""
        self.marked = (self.sim.now_ns, {n: h.cpu_stats() for n, h in self.hosts.items()},
                       {n: h.nic.stats() for n, h in self.hosts.items()}, self.link_busy())
        return self.sim.now_ns

    def check_time(self, t0: float, what: str) -> None:
        if self.sim.now_ns - t0 > self.deadline_ns:
            raise RuntimeError(f"{what} did not finish within measure.max_ms = {self.deadline_ns / 1e6:g} ms")

    # ---------------------------------------------------------------- workloads
    def _bulk_flows(self, w: dict, frm: str, to: str, port: int) -> tuple:
        src, dst = self.hosts[frm], self.hosts[to]
        cores = lambda h: (h.cpu_stats() or {"cores": [0]})["cores"]
        # Default: what is in flight fits the receiver's RX buffers (a
        # 256-entry RTL ring, 1024 SoftNic buffers): an overrun drops, and
        # a lost tail waits for TCP's retransmit timeout (docs/cpu.md).
        fit = (256 << 10) if self.sc.host(to)["nic"]["kind"] == "rtl" else (1 << 20)
        buf = w["buffer"] or fit // w["flows"]
        lst = dst.tcp_socket()
        lst.set_buffers(buf, buf)
        lst.bind((self.addr(to), port))
        lst.listen(w["flows"] + 4)
        flows = []
        for k in range(w["flows"]):
            c = src.tcp_socket()
            c.set_buffers(buf, buf)
            c.cpu = k % len(cores(src))
            c.connect((self.addr(to), port), timeout_ns=self.deadline_ns)
            s, _ = lst.accept(timeout_ns=self.deadline_ns)
            s.cpu = k % len(cores(dst))
            flows.append([c, s, 0, 0])
        return lst, flows

    def tcp_bulk(self, w: dict) -> dict:
        ends = {"forward": [(w["from"], w["to"])], "reverse": [(w["to"], w["from"])],
                "both": [(w["from"], w["to"]), (w["to"], w["from"])]}[w["direction"]]
        listeners, flows = [], []
        for i, (frm, to) in enumerate(ends):
            lst, fs = self._bulk_flows(w, frm, to, w["port"] + i)
            listeners.append(lst)
            flows += fs
        chunk = b"\x5a" * (64 << 10)
        n = w["bytes"]
        t0 = self.mark()
        start, warm, base = t0, w["warmup_us"] > 0, 0
        while any(f[3] < n for f in flows):
            if warm and self.sim.now_ns - start >= w["warmup_us"] * 1e3:
                warm = False  # the measured window starts here
                t0, base = self.mark(), sum(f[3] for f in flows)
            for f in flows:
                while f[2] < n and f[0]._s.writable > 0:
                    f[2] += f[0]._s.send(chunk[:n - f[2]])
            self.sim.run_for(us=5)
            for f in flows:
                while f[1]._s.readable > 0:
                    f[3] += len(f[1]._s.recv(1 << 20))
            self.check_time(t0, "tcp_bulk")
        if warm:
            raise RuntimeError(f"tcp_bulk ended before its warm-up of {w['warmup_us']:g} us")
        dt = self.sim.now_ns - t0
        measured = n * len(flows) - base
        info = [f[0].info() for f in flows]
        for f in flows:
            f[0].close()
            f[1].close()
        for lst in listeners:
            lst.close()
        return {"bytes": measured, "duration_ns": dt, "goodput_gbps": measured * 8 / dt,
                "retransmits": sum(i["retransmits"] for i in info), "segments_out": sum(i["segs_out"] for i in info)}

    def tcp_rr(self, w: dict) -> dict:
        src, dst = self.hosts[w["from"]], self.hosts[w["to"]]
        lst = dst.tcp_socket()
        lst.bind((self.addr(w["to"]), w["port"]))
        lst.listen()
        c = src.tcp_socket()
        c.nodelay = True
        c.connect((self.addr(w["to"]), w["port"]), timeout_ns=self.deadline_ns)
        s, _ = lst.accept(timeout_ns=self.deadline_ns)
        s.nodelay = True
        lat, nbytes = [], 0
        t0 = start = self.mark()
        warm = w["warmup_us"] > 0
        for i in self._turns(w, start):
            if warm and self.sim.now_ns - start >= w["warmup_us"] * 1e3:
                warm = False  # the measured window starts here
                t0, lat, nbytes = self.mark(), [], 0
            msg = b"\x42" * w["size"][i % len(w["size"])]
            nbytes += 2 * len(msg)
            t = self.sim.now_ns
            c._s.send(msg)
            self.sim.run_until(lambda: s._s.readable >= len(msg), timeout_ns=self.deadline_ns)
            got = b""
            while len(got) < len(msg):
                got += s._s.recv(len(msg) - len(got))
            s._s.send(msg)
            self.sim.run_until(lambda: c._s.readable >= len(msg), timeout_ns=self.deadline_ns)
            got = b""
            while len(got) < len(msg):
                got += c._s.recv(len(msg) - len(got))
            lat.append(self.sim.now_ns - t)
            self.check_time(start, "tcp_rr")
        if warm:
            raise RuntimeError(f"tcp_rr ended before its warm-up of {w['warmup_us']:g} us")
        dt = self.sim.now_ns - t0
        c.close()
        s.close()
        lst.close()
        return {"transactions": len(lat), "duration_ns": dt, "transactions_per_s": len(lat) / dt * 1e9,
                "latency_ns": _percentiles(lat), "latency_samples_ns": lat, "bytes": nbytes}

    def _turns(self, w: dict, start: float):
        """Transaction numbers: `count` of them, or (with duration_us) as
        many as start before warm-up plus duration has passed."""
        i = 0
        if not w["duration_us"]:
            yield from range(w["count"])
            return
        while self.sim.now_ns - start < (w["warmup_us"] + w["duration_us"]) * 1e3:
            yield i
            i += 1

    def udp(self, w: dict) -> dict:
        src, dst = self.hosts[w["from"]], self.hosts[w["to"]]
        rx = dst.udp_socket()
        rx.bind((self.addr(w["to"]), w["port"]))
        tx = src.udp_socket()
        got = sent = received = 0
        t0 = start = self.mark()
        warm = w["warmup_us"] > 0
        for i in self._turns(w, start):
            if warm and self.sim.now_ns - start >= w["warmup_us"] * 1e3:
                warm = False  # the measured window starts here (datagrams in flight count in it)
                t0, got, sent, received = self.mark(), 0, 0, 0
            data = b"\x33" * w["size"][i % len(w["size"])]
            try:
                tx.sendto(data, (self.addr(w["to"]), w["port"]))
                sent += 1
            except OSError:
                pass  # counted: sent < count
            # The sender waits for its CPU (a blocking sendto) or the interval.
            st = src.cpu_stats()
            wait = max(w["interval_us"] * 1e3, (st["cores"][0]["free_at_ns"] - self.sim.now_ns) if st else 0)
            self.sim.run_for(ns=max(wait, 0))
            while rx._s.pending:
                got += len(rx._s.recvfrom()[0])
                received += 1
            self.check_time(start, "udp")
        self.sim.run_for(us=100)
        while rx._s.pending:
            got += len(rx._s.recvfrom()[0])
            received += 1
        if warm:
            raise RuntimeError(f"udp ended before its warm-up of {w['warmup_us']:g} us")
        dt = self.sim.now_ns - t0
        rx.close()
        tx.close()
        return {"datagrams_sent": sent, "datagrams_received": received, "bytes": got, "duration_ns": dt,
                "goodput_gbps": got * 8 / dt, "packets_per_s": received / dt * 1e9,
                "loss": max(0.0, 1 - received / max(sent, 1))}

    def ping(self, w: dict) -> dict:
        src = self.hosts[w["from"]]
        t0 = start = self.mark()
        warm = w["warmup_us"] > 0
        rtts, nbytes = [], 0
        for i in self._turns(w, start):
            if warm and self.sim.now_ns - start >= w["warmup_us"] * 1e3:
                warm = False
                t0, rtts, nbytes = self.mark(), [], 0
            size = w["size"][i % len(w["size"])]
            r = src.ping(self.addr(w["to"]), count=1, size=size, timeout_ms=self.deadline_ns / 1e6)
            rtts += r
            nbytes += size * sum(x is not None for x in r)
            if w["interval_us"]:
                self.sim.run_for(us=w["interval_us"])
        if warm:
            raise RuntimeError(f"ping ended before its warm-up of {w['warmup_us']:g} us")
        ok = [r for r in rtts if r is not None]
        return {"sent": len(rtts), "received": len(ok), "latency_ns": _percentiles(ok), "latency_samples_ns": ok,
                "duration_ns": self.sim.now_ns - t0, "bytes": nbytes}

    def link_busy(self) -> dict:
        return {d: st["busy_ns"] for ln in self.links for d, st in ln.stats().items()}

    # ---------------------------------------------------------------- whole run
    def host_counters(self) -> dict:
        out = {}
        for name, h in self.hosts.items():
            st = h.stats()
            out[name] = {"nic": h.nic.stats(), "drops": st["drops"], "cpu": h.cpu_stats()}
        return out


def _cpu_delta(before: dict | None, after: dict | None, window_ns: float, nbytes: int) -> dict | None:
    if not before:
        return None
    busy = [a["busy_ns"] - b["busy_ns"] for b, a in zip(before["cores"], after["cores"])]
    by_use = {u: sum(a["busy_ns_by_use"][u] - b["busy_ns_by_use"][u] for b, a in zip(before["cores"], after["cores"]))
              for u in ("irq", "timer", "app")}
    cycles = sum(busy) * after["ghz"]
    return {"busy_cores": sum(busy) / window_ns, "per_core_utilisation": [x / window_ns for x in busy],
            "busy_ns_by_use": by_use, "cycles": cycles, "cycles_per_byte": cycles / nbytes if nbytes else None}


def build_info() -> dict:
    """The build (written by CMake next to the package), or {} outside one."""
    f = Path(vd.__file__).resolve().parent / "build_info.json"
    try:
        return json.loads(f.read_text())
    except (OSError, ValueError):
        return {}


def _git_commit() -> str | None:
    """The commit of the sources the package was built from."""
    here = Path(__file__).resolve()
    candidates = [build_info().get("source_dir"), os.environ.get("VD_SOURCE_DIR")] + [str(p) for p in here.parents]
    for c in candidates:
        if c and (Path(c) / ".git").exists():
            r = subprocess.run(["git", "-C", c, "rev-parse", "HEAD"], capture_output=True, text=True)
            return r.stdout.strip() or None
    return None


def _rtl_shares(n: dict) -> None:
    """Adds an RTL NIC's utilisation figures to its counter deltas: the share of
    cycles it was evaluated (the rest were skipped idle), each engine's busy
    share, PCIe use per direction, and the mean DMA read latency."""
    if "cycles_evaluated" not in n:
        return
    total = n["cycles_evaluated"] + n["cycles_skipped"]
    n["busy_share"] = n["cycles_evaluated"] / total if total else 0.0
    n["engine_utilisation"] = {k[len("busy_cycles_"):]: (v / total if total else 0.0)
                               for k, v in n.items() if k.startswith("busy_cycles_")}
    n["pcie"] = {d: {"tlps": n[f"pcie_{d}_tlps"], "bytes": n[f"pcie_{d}_bytes"],
                     "payload_bytes": n[f"pcie_{d}_payload_bytes"],
                     "utilisation": n[f"pcie_{d}_busy_cycles"] / total if total else 0.0}
                 for d in ("up", "down")}
    if n.get("dma_reads"):  # mean read latency, request to last completion beat
        n["dma_read_latency_cycles_mean"] = n["dma_read_latency_cycles"] / n["dma_reads"]


def run(sc: Scenario) -> dict:
    """Runs every workload in order; returns the result record."""
    wall0 = time.monotonic()
    r = _Run(sc)
    workloads = []
    for i, w in enumerate(sc.data["workload"]):
        m = getattr(r, w["kind"])(w)
        t0, cpu0, nic0, links0 = r.marked
        window = r.sim.now_ns - t0
        m["kind"], m["index"] = w["kind"], i
        m["cpu"] = {n: _cpu_delta(cpu0[n], h.cpu_stats(), window, m.get("bytes", 0)) for n, h in r.hosts.items()}
        m["nic"] = {n: {k: v - nic0[n].get(k, 0) for k, v in h.nic.stats().items()} for n, h in r.hosts.items()}
        for n in m["nic"].values():
            _rtl_shares(n)
        # Wire busy share per direction (frames, preamble and gaps counted).
        m["link_utilisation"] = {k: (v - links0[k]) / window for k, v in r.link_busy().items()}
        workloads.append(m)
    return {"schema": SCHEMA, "scenario": sc.data, "scenario_sha256": sc.sha256, "origin": sc.origin,
            "seed": sc.data["seed"], "git_commit": _git_commit(), "build": build_info(), "virtual_ns": r.sim.now_ns,
            "wall_s": time.monotonic() - wall0, "workloads": workloads, "hosts": r.host_counters()}
