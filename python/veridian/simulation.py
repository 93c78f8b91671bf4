"""Simulation: hosts, switches, links and captures on one virtual clock."""

from __future__ import annotations

from typing import Callable, Optional

from . import _veridian as _core
from .cpus import Cpus
from .host import Host
from .nics import SoftNic, _check_nic
from .topology import Link, LinkFaults, Switch


def _opt(conv, value):
    """None (keep the C++ default) or value converted."""
    return None if value is None else conv(value)


class Simulation:
    """Hosts, links and captures on one virtual clock, seeded and deterministic."""

    def __init__(self, seed: int = 1):
        if not isinstance(seed, int) or seed < 0:
            raise ValueError("seed must be a non-negative int")
        self._s = _core.Simulation(seed)
        self.hosts: dict[str, Host] = {}
        self.switches: dict[str, Switch] = {}
        self.links: list[Link] = []

    def add_host(self, name: str, nic=None, cpus: Optional[Cpus] = None) -> Host:
        """A host with one NIC (default SoftNic()). With cpus=vd.Cpus(...),
        its work takes virtual time on its cores (docs/cpu.md); without,
        host work takes none."""
        nic = nic if nic is not None else SoftNic()
        _check_nic(nic)
        if cpus is not None and not isinstance(cpus, Cpus):
            raise TypeError(f"cpus must be a veridian.Cpus, not {type(cpus).__name__}")
        h = Host(self, self._s.add_host(name, nic._spec(), None if cpus is None else cpus._config()))
        self.hosts[name] = h
        return h

    def add_switch(self, name: Optional[str] = None, ports: Optional[int] = None, ageing_s: Optional[float] = None,
                   latency_ns: Optional[float] = None, table_size: Optional[int] = None) -> Switch:
        """A learning L2 switch with `ports` ports (names are shared with hosts;
        default "sw0", "sw1", ...). latency_ns: forwarding delay after a frame
        has fully arrived. An argument left None keeps the default of the
        C++ sim::SwitchConfig (host/include/veridian/sim/switch.hpp)."""
        if name is None:
            name = f"sw{len(self.switches)}"
        w = Switch(self, self._s.add_switch(name, _opt(int, ports), _opt(float, ageing_s), _opt(float, latency_ns),
                                            _opt(int, table_size)))
        self.switches[name] = w
        return w

    def connect(self, a, b, rate_gbps: Optional[float] = None, latency_ns: Optional[float] = None, faults=None,
                a_nic: Optional[int] = None, b_nic: Optional[int] = None) -> Link:
        """Cable two ends (Host or Switch). For a host end, a_nic/b_nic names
        the NIC (its ifindex; default the first NIC); for a switch end, the port
        (default: the lowest free one). faults: a LinkFaults for both
        directions, or a pair (a->b, b->a), None for a perfect wire.
        rate_gbps/latency_ns left None keep the default of the C++
        sim::LinkConfig (host/include/veridian/sim/link.hpp)."""
        def end(x, k, which):
            if isinstance(x, Host):
                return "h", (0 if k is None else x._nic_number(k))
            if isinstance(x, Switch):
                return "s", (None if k is None else int(k))
            raise TypeError(f"{which} must be a veridian.Host or veridian.Switch, not {type(x).__name__}")
        ka, ia = end(a, a_nic, "a")
        kb, ib = end(b, b_nic, "b")
        fa = fb = None
        if faults is not None:
            if isinstance(faults, LinkFaults):
                fa = fb = faults
            elif isinstance(faults, (tuple, list)) and len(faults) == 2:
                fa, fb = faults
            else:
                raise TypeError("faults must be a LinkFaults or a pair (a->b, b->a)")
            for f in (fa, fb):
                if f is not None and not isinstance(f, LinkFaults):
                    raise TypeError("faults must be veridian.LinkFaults")
                if f is not None:
                    f._spec()  # validate before cabling anything
        r, lat = _opt(float, rate_gbps), _opt(float, latency_ns)
        if ka == "h" and kb == "h":
            if ia == 0 and ib == 0:
                core = self._s.connect(a._h, b._h, r, lat)
            else:
                core = self._s.connect_hosts(a._h, b._h, r, lat, ia, ib)
            link = Link(core, a, b)
        elif ka == "h":
            link = Link(self._s.connect_host_switch(a._h, b._w, r, lat, ia, ib), a, b)
        elif kb == "h":
            # The C++ side puts the host at side 0; keep a at direction 0 by
            # cabling b (the host) first and mapping directions back.
            link = Link(self._s.connect_host_switch(b._h, a._w, r, lat, ib, ia), a, b, flip=True)
        else:
            link = Link(self._s.connect_switches(a._w, b._w, r, lat, ia, ib), a, b)
        if fa is not None:
            link.set_faults(0, fa)
        if fb is not None:
            link.set_faults(1, fb)
        self.links.append(link)
        return link

    def attach_tap(self, host: Host, ifname: str, rate_gbps: float = 10.0, latency_ns: float = 1000.0):
        """Cable host's NIC to the Linux TAP device `ifname` (created if
        needed, in this process's network namespace; needs CAP_NET_ADMIN).
        From then on the simulation runs in real time: run_for/run_until and
        ping are paced so virtual time never runs ahead of the wall clock.
        Raises OSError when the TAP cannot be opened. Returns the bridge
        (.name, .stats())."""
        return self._s.attach_tap(host._h, str(ifname), float(rate_gbps), float(latency_ns))

    @property
    def realtime(self) -> bool:
        return self._s.realtime

    def capture(self, link: Link, path: str, delivered: bool = False) -> None:
        """Write every frame on `link` (both directions) to a pcap file: as
        sent, when the first bit enters the wire, before any fault (default);
        or with delivered=True, as the far ends receive them, at the last
        bit (lost frames absent, corrupted ones damaged, duplicates twice)."""
        if delivered:
            self._s.capture_delivered(link._l, str(path))
        else:
            self._s.capture(link._l, str(path))

    def flush(self) -> None:
        """Flush pcap captures to disk (they are also flushed when the simulation is freed)."""
        self._s.flush()

    def run_for(self, ns: float = 0, us: float = 0, ms: float = 0) -> None:
        self._s.run_for_ps(int(round((ns + us * 1e3 + ms * 1e6) * 1000)))

    def run_until(self, pred: Callable[[], bool], timeout_ns: float) -> bool:
        """Run until pred() is true (checked after each event) or timeout_ns of
        simulated time passed; returns pred()'s last value."""
        return self._s.run_until_pred(pred, int(timeout_ns * 1000))

    @property
    def now_ns(self) -> float:
        return self._s.now_ps / 1000.0

    @property
    def now_ps(self) -> int:
        return self._s.now_ps

    @property
    def seed(self) -> int:
        return self._s.seed

    def run_stats(self) -> dict:
        """Per RtlNic: cycles evaluated, cycles skipped while idle, wakeups.
        Keyed by host name for a host's first NIC, "host/nicK" for NIC K > 0."""
        out = dict(self._s.run_stats())
        for name, h in self.hosts.items():
            for v in h.nics[1:]:
                r = h._h.run_stats_at(v.index)
                if r is not None:
                    out[f"{name}/nic{v.index}"] = dict(r)
        return out

    @property
    def events_run(self) -> int:
        return self._s.events_run
