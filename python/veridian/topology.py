"""Topology: the faults of a link's direction (LinkFaults), links (Link) and
learning L2 switches (Switch). LinkFaults' defaults are those of a
default-constructed C++ sim::LinkFaults (host/include/veridian/sim/link.hpp)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from . import _veridian as _core


_NS = 1000  # ps per ns
_F = _core.LinkFaultsSpec()  # the C++ defaults LinkFaults starts from


@dataclass
class LinkFaults:
    """Faults for one direction of a link (all off by default). Probabilities
    are per frame. Seeded from the Simulation's seed, the link's index and the
    direction, so a run repeats bit for bit. See docs/python.md."""
    loss: float = _F.loss                   # frame lost
    duplicate: float = _F.duplicate         # a second copy arrives one frame time later
    reorder: float = _F.reorder             # frame held back by reorder_delay_ns (later frames overtake it)
    reorder_delay_ns: float = _F.reorder_delay_ps / _NS
    corrupt: float = _F.corrupt             # corrupt_bits distinct random bits flipped
    corrupt_bits: int = _F.corrupt_bits
    corrupt_from: int = _F.corrupt_from     # first byte that may be hit (14 spares the Ethernet header)
    corrupt_keep_fcs: bool = _F.corrupt_keep_fcs  # False: delivered with a bad FCS (the NIC drops it); True: as if the FCS was recomputed
    jitter_ns: float = _F.jitter_ps / _NS   # uniform extra delay in [0, jitter_ns], order kept
    cap_gbps: float = _F.cap_gbps           # bandwidth cap (0: none), below the link rate
    cap_queue: int = _F.cap_queue           # frames that may wait for the cap (0: unbounded); more are tail-dropped

    def _spec(self) -> "_core.LinkFaultsSpec":
        for k in ("loss", "duplicate", "reorder", "corrupt"):
            v = getattr(self, k)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{k} must be a probability in [0, 1], not {v!r}")
        if self.reorder_delay_ns < 0 or self.jitter_ns < 0:
            raise ValueError("reorder_delay_ns and jitter_ns must be >= 0")
        if self.corrupt_bits < 1 or self.corrupt_from < 0 or self.cap_queue < 0:
            raise ValueError("corrupt_bits must be >= 1, corrupt_from and cap_queue >= 0")
        if not 0.0 <= self.cap_gbps < float("inf"):
            raise ValueError("cap_gbps must be >= 0 (0: no cap)")
        f = _core.LinkFaultsSpec()
        f.loss = float(self.loss)
        f.duplicate = float(self.duplicate)
        f.reorder = float(self.reorder)
        f.reorder_delay_ps = int(round(self.reorder_delay_ns * _NS))
        f.corrupt = float(self.corrupt)
        f.corrupt_bits = int(self.corrupt_bits)
        f.corrupt_from = int(self.corrupt_from)
        f.corrupt_keep_fcs = bool(self.corrupt_keep_fcs)
        f.jitter_ps = int(round(self.jitter_ns * _NS))
        f.cap_gbps = float(self.cap_gbps)
        f.cap_queue = int(self.cap_queue)
        return f

    @classmethod
    def _from_spec(cls, f) -> "LinkFaults":
        return cls(loss=f.loss, duplicate=f.duplicate, reorder=f.reorder, reorder_delay_ns=f.reorder_delay_ps / _NS,
                   corrupt=f.corrupt, corrupt_bits=f.corrupt_bits, corrupt_from=f.corrupt_from,
                   corrupt_keep_fcs=f.corrupt_keep_fcs, jitter_ns=f.jitter_ps / _NS, cap_gbps=f.cap_gbps,
                   cap_queue=f.cap_queue)


class Link:
    """A full-duplex cable. Direction 0 carries frames from end `a` to end
    `b` (the first and second argument of Simulation.connect), direction 1
    the other way; an end is a Host or a Switch."""

    def __init__(self, core, a, b, flip: bool = False):
        self._l = core
        self.a, self.b = a, b
        self._flip = int(flip)  # 1 when the C++ link has b at its side 0

    @property
    def rate_gbps(self) -> float:
        return self._l.rate_gbps

    @property
    def latency_ns(self) -> float:
        return self._l.latency_ns

    def stats(self) -> dict:
        """Frames, bytes and wire-busy time in each direction (a->b, b->a)."""
        return {f"{self.a.name}->{self.b.name}": self._l.stats(self._flip),
                f"{self.b.name}->{self.a.name}": self._l.stats(1 - self._flip)}

    def _sides(self, direction) -> list[int]:
        """0, 1, "both"/None, the sending end (a Host or Switch) or its name."""
        if direction is None or direction == "both":
            return [0, 1]
        if isinstance(direction, bool):
            raise TypeError("direction must be 0, 1, 'both', or the sending Host/Switch")
        if direction in (0, 1) and isinstance(direction, int):
            return [direction]
        if direction is self.a or (isinstance(direction, str) and direction == self.a.name):
            return [0]
        if direction is self.b or (isinstance(direction, str) and direction == self.b.name):
            return [1]
        raise ValueError(f"direction must be 0, 1, 'both', or one of this link's ends "
                         f"({self.a.name!r}, {self.b.name!r}), not {direction!r}")

    def set_faults(self, direction="both", faults: Optional[LinkFaults] = None, **kw) -> None:
        """Faults for frames sent from now on in `direction` (0 = a->b, 1 = b->a,
        "both", or the sending end). Either a LinkFaults or its fields as
        keywords; `set_faults("both")` alone clears them."""
        if faults is not None and kw:
            raise TypeError("pass a LinkFaults or keywords, not both")
        if faults is None:
            faults = LinkFaults(**kw)
        if not isinstance(faults, LinkFaults):
            raise TypeError("faults must be a veridian.LinkFaults")
        spec = faults._spec()
        for side in self._sides(direction):
            self._l.set_faults(side ^ self._flip, spec)

    def faults(self, direction) -> LinkFaults:
        sides = self._sides(direction)
        if len(sides) != 1:
            raise ValueError("faults(direction): name one direction")
        return LinkFaults._from_spec(self._l.faults(sides[0] ^ self._flip))

    def fault_stats(self, direction) -> dict:
        """What the faults did to frames sent in one direction: sent,
        delivered, dropped, queue_drops, duplicated, reordered, corrupted,
        bits_flipped, delayed, delay_added_ns. Once the link is quiet,
        sent + duplicated == delivered + dropped + queue_drops."""
        sides = self._sides(direction)
        if len(sides) != 1:
            raise ValueError("fault_stats(direction): name one direction")
        return dict(self._l.fault_stats(sides[0] ^ self._flip))

    def __repr__(self) -> str:
        return f"Link({self.a.name!r} <-> {self.b.name!r}, {self.rate_gbps} Gb/s)"


class Switch:
    """A learning L2 switch (store and forward): floods broadcast, multicast
    and unknown destinations, learns source MACs per port, ages them out on
    simulated time. No VLANs, no spanning tree (do not cable a loop)."""

    def __init__(self, sim: "Simulation", core):
        self._sim = sim
        self._w = core

    @property
    def name(self) -> str:
        return self._w.name

    @property
    def ports(self) -> int:
        return self._w.ports

    def cabled(self, port: int) -> bool:
        return self._w.cabled(port)

    def stats(self) -> dict:
        """rx_frames, forwarded, flooded, filtered, fcs_drops, runts, learned, moved, aged_out, table_full."""
        return dict(self._w.stats())

    def port_stats(self, port: int) -> dict:
        return dict(self._w.port_stats(port))

    def mac_table(self) -> list[dict]:
        """Live entries: [{"mac", "port", "age_ns"}], expired ones removed first."""
        return [{"mac": m, "port": p, "age_ns": age} for m, p, age in self._w.mac_table(self._sim.now_ps)]

    def lookup(self, mac: str) -> Optional[int]:
        """The port `mac` was learnt on, or None (unknown or aged out)."""
        return self._w.lookup(mac)

    def flush_table(self) -> None:
        self._w.flush_table()

    def __repr__(self) -> str:
        return f"Switch({self.name!r}, ports={self.ports})"
