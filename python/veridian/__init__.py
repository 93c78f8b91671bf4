"""Veridian: a hardware/software co-design testbed for NIC offloads.

    import veridian as vd
    sim = vd.Simulation(seed=1)
    a = sim.add_host("a", nic=vd.RtlNic(queues=4, data_width=512))
    b = sim.add_host("b", nic=vd.SoftNic())
    link = sim.connect(a, b, rate_gbps=100, latency_ns=500)
    a.add_address("10.0.0.1/24"); b.add_address("10.0.0.2/24")
    sim.capture(link, "run.pcap")
    rtts = a.ping("10.0.0.2", count=3)
    srv = b.udp_socket(); srv.bind(("10.0.0.2", 7000))
    cli = a.udp_socket(); cli.sendto(b"hello", ("10.0.0.2", 7000))
    sim.run_for(ns=10_000)
    data, addr = srv.recvfrom()

All time is simulated (virtual picoseconds); nothing here reads the wall
clock, and no packet leaves the process, unless Simulation.attach_tap puts a
host on a Linux TAP device (real-time mode, docs/tap.md). Long runs happen in C++: each call
below is one step, never one clock cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from . import _veridian as _core
from . import abi

__all__ = [
    "Simulation", "Host", "RtlNic", "SoftNic", "Link", "UdpSocket", "DmaConfig",
    "AbiMismatchError", "abi", "rtl_widths", "NicTestbench",
]

AbiMismatchError = _core.AbiMismatchError
DmaConfig = _core.DmaConfig


def rtl_widths() -> list[int]:
    """Data widths the NIC RTL was Verilated for in this build."""
    return list(_core.rtl_widths())


def _dma(spec) -> "_core.DmaConfig":
    if spec is None or spec == "gen3":
        return _core.DmaConfig.pcie_gen3_x16()
    if spec == "gen4":
        return _core.DmaConfig.pcie_gen4_x16()
    if isinstance(spec, _core.DmaConfig):
        return spec
    raise ValueError(f"dma must be 'gen3', 'gen4' or a DmaConfig, not {spec!r}")


@dataclass
class RtlNic:
    """The Verilated RTL NIC behind the host driver."""
    queues: int = 4
    data_width: int = 512
    clock_mhz: float = 250.0
    mtu: int = 1500
    dma: object = "gen3"
    ring_log2: int = 8
    trace: Optional[str] = None          # FST waveform path; tracing only when asked
    tx_csum: bool = True                 # let the stack hand UDP checksums to the NIC's RTL
    expect_abi_id: Optional[int] = None  # override the driver's expected ABI id (tests)
    rx_csum: bool = True                 # let the RTL verify RX checksums (per-queue switch in the NIC)
    irq_frames: int = 1                  # interrupt moderation: completions per interrupt
    irq_delay_ns: float = 0.0            # ... or this long after the first one (0: no timer)

    def _spec(self) -> "_core.NicSpec":
        if self.data_width not in rtl_widths():
            raise ValueError(f"data_width {self.data_width} not built; available: {rtl_widths()}")
        if not 1 <= self.queues <= abi.MAX_QUEUES:
            raise ValueError(f"queues must be in 1..{abi.MAX_QUEUES}, not {self.queues}")
        if not abi.MIN_RING_LOG2 <= self.ring_log2 <= abi.MAX_RING_LOG2:
            raise ValueError(f"ring_log2 must be in {abi.MIN_RING_LOG2}..{abi.MAX_RING_LOG2}")
        if not 68 <= self.mtu <= abi.MAX_FRAME - 18:
            raise ValueError(f"mtu must be in 68..{abi.MAX_FRAME - 18}")
        s = _core.NicSpec()
        s.kind = _core.NicSpec.Kind.RTL
        s.queues = self.queues
        s.data_width = self.data_width
        s.clock_mhz = float(self.clock_mhz)
        s.mtu = self.mtu
        s.dma = _dma(self.dma)
        s.ring_log2 = self.ring_log2
        s.trace_path = self.trace or ""
        s.expect_abi_id = self.expect_abi_id
        s.tx_csum = bool(self.tx_csum)
        if not 0 <= self.irq_frames <= 0xFFFF:
            raise ValueError("irq_frames must be in 0..65535")
        if not 0 <= self.irq_delay_ns <= 0xFFFF * abi.IRQ_MOD_UNIT * 1000.0 / self.clock_mhz:
            raise ValueError("irq_delay_ns out of range")
        s.irq_frames = int(self.irq_frames)
        s.rx_csum = bool(self.rx_csum)
        s.irq_delay_ns = float(self.irq_delay_ns)
        return s


@dataclass
class SoftNic:
    """The same NetDevice in plain C++ (no RTL), at native speed."""
    queues: int = 1
    mtu: int = 1500
    tx_csum: bool = True                 # finish UDP checksums with the offload/ software model

    def _spec(self) -> "_core.NicSpec":
        if not 1 <= self.queues <= abi.MAX_QUEUES:
            raise ValueError(f"queues must be in 1..{abi.MAX_QUEUES}")
        if not 68 <= self.mtu <= 9000:
            raise ValueError("mtu must be in 68..9000")
        s = _core.NicSpec()
        s.kind = _core.NicSpec.Kind.SOFT
        s.queues = self.queues
        s.mtu = self.mtu
        s.tx_csum = bool(self.tx_csum)
        return s


def _addr(addr) -> tuple[str, int]:
    if not (isinstance(addr, tuple) and len(addr) == 2 and isinstance(addr[0], str) and isinstance(addr[1], int)):
        raise TypeError(f"address must be an (ip: str, port: int) tuple, not {addr!r}")
    return addr


class UdpSocket:
    """A UDP socket on a simulated host (datagram semantics like socket.SOCK_DGRAM)."""

    def __init__(self, sim: "Simulation", core):
        self._sim = sim
        self._s = core

    def bind(self, addr) -> None:
        ip, port = _addr(addr)
        self._s.bind(ip, port)

    def sendto(self, data: bytes, addr) -> int:
        ip, port = _addr(addr)
        return self._s.sendto(bytes(data), ip, port)

    def recvfrom(self, timeout_ns: int = 0):
        """Next datagram as (data, (ip, port)). With timeout_ns > 0 the
        simulation runs (up to that long) until one arrives. Raises
        BlockingIOError if none is queued and no timeout was given, or
        TimeoutError if none arrived in time."""
        d = self._s.recvfrom()
        if d is not None:
            return d
        if timeout_ns <= 0:
            raise BlockingIOError("no datagram queued (run the simulation, or pass timeout_ns)")
        self._sim.run_until(lambda: self._s.pending > 0, timeout_ns=timeout_ns)
        d = self._s.recvfrom()
        if d is None:
            raise TimeoutError(f"no datagram within {timeout_ns} ns of simulated time")
        return d

    @property
    def pending(self) -> int:
        return self._s.pending

    @property
    def ttl(self) -> int:
        """IP_TTL of datagrams sent from this socket (0 = the stack's default)."""
        return self._s.ttl

    @ttl.setter
    def ttl(self, value: int) -> None:
        self._s.ttl = value

    def getsockname(self) -> tuple[str, int]:
        return (self._s.local_addr, self._s.local_port)

    def close(self) -> None:
        self._s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _NicView:
    """host.nic: the device's counters and, for an RtlNic, its registers."""

    def __init__(self, host: "Host"):
        self._h = host._h

    @property
    def kind(self) -> str:
        return self._h.nic_kind

    def stats(self) -> dict:
        return dict(self._h.nic_stats())

    def registers(self) -> dict:
        """NIC statistics registers read over MMIO (RtlNic only; costs NIC cycles)."""
        return dict(self._h.nic_registers())

    def read_reg(self, addr: int) -> int:
        return self._h.read_reg(addr)

    def pool_stats(self) -> dict:
        return dict(self._h.pool_stats())


class Host:
    """A simulated host: one NIC, the protocol stack, sockets."""

    def __init__(self, sim: "Simulation", core):
        self._sim = sim
        self._h = core
        self.nic = _NicView(self)

    @property
    def name(self) -> str:
        return self._h.name

    @property
    def mac(self) -> str:
        return self._h.mac

    def add_address(self, cidr: str) -> None:
        """"10.0.0.1/24" or "2001:db8::1/64" (an IPv6 address turns IPv6 on
        and is tentative until duplicate address detection passes)."""
        self._h.add_address(cidr)

    def enable_ipv6(self) -> None:
        """IPv6 on: link-local address (after DAD), router solicitation, SLAAC."""
        self._h.enable_ipv6()

    def addresses6(self) -> list:
        """[(address, prefix_len, state, autoconf)], state one of
        "tentative", "preferred", "duplicate"."""
        return list(self._h.addresses6())

    def add_route6(self, cidr: str, gateway: str = "", metric: int = 0) -> bool:
        return self._h.add_route6(cidr, gateway, metric)

    def set_router_advert(self, prefixes: list, interval_s: float = 200.0, lifetime_s: int = 1800,
                          mtu: int = 0) -> None:
        """Advertise as a router (RFC 4861): RAs with these prefixes (SLAAC
        for hosts on the link) on request and every interval_s."""
        self._h.set_router_advert(list(prefixes), interval_s, lifetime_s, mtu)

    def default_router6(self):
        return self._h.default_router6()

    def path_mtu6(self, dst: str) -> int:
        return self._h.path_mtu6(dst)

    def ping(self, dst: str, count: int = 1, timeout_ms: float = 1000.0, size: int = 56, ttl: int = 0) -> list:
        """ICMP echo (ICMPv6 for an IPv6 address): returns the RTT of each
        request in ns (None if lost). Advances simulated time as needed.
        Sizes above the MTU are fragmented; ttl 0 is the stack's default (64)."""
        if ":" in dst:
            return self.ping6(dst, count, timeout_ms, size, hop_limit=ttl)
        if count < 0 or size < 0 or size > 65507:
            raise ValueError("count must be >= 0 and size in 0..65507 (larger than the MTU is fragmented)")
        return self._sim._s.ping(self._h, dst, count, int(timeout_ms * 1e9), size, ttl)

    # -- routing, forwarding, VLANs (IPv4) --------------------------------
    def add_route(self, cidr: str, via: Optional[str] = None, ifindex: Optional[int] = None, metric: int = 0) -> None:
        """A route to cidr through gateway `via` (on a connected subnet) or
        on-link out of `ifindex`. "0.0.0.0/0" is the default route. IPv6
        prefixes ("2001:db8::/32", "::/0") go to the IPv6 table."""
        self._h.add_route(cidr, via, ifindex, metric)

    def remove_route(self, cidr: str) -> bool:
        return self._h.remove_route(cidr)

    def routes(self) -> list:
        """The routing table: dicts with prefix, via, ifindex, metric, connected."""
        return self._h.routes()

    def set_forwarding(self, on: bool = True) -> None:
        """Route datagrams between this host's interfaces (a router), IPv4 and IPv6."""
        self._h.set_forwarding(on)

    def add_vlan(self, vid: int, parent: int = 0) -> int:
        """An 802.1Q sub-interface for VLAN vid on interface `parent`; returns its ifindex."""
        return self._h.add_vlan(vid, parent)

    def add_address_on(self, ifindex: int, cidr: str) -> None:
        """Adds an address (IPv4 or IPv6 CIDR) to interface `ifindex` (a second NIC, a VLAN)."""
        self._h.add_address_on(ifindex, cidr)

    def path_mtu(self, dst: str) -> int:
        return self._h.path_mtu(dst)

    def icmp_errors(self) -> list:
        """ICMP errors received about our datagrams (type, code, from, quoted addresses/ports, mtu)."""
        return self._h.icmp_errors()

    def neighbors(self) -> list:
        """ARP and ND caches: dicts with ifindex, addr, mac, state (RFC 4861 NUD names)."""
        return self._h.neighbors()

    def traceroute(self, dst: str, max_hops: int = 16, timeout_ms: float = 100.0) -> list:
        """The hops towards dst, found by TTL expiry of echo requests: one
        address per hop (None where nothing answered), ending at dst."""
        hops = []
        for ttl in range(1, max_hops + 1):
            seen = len(self._h.icmp_errors())
            rtt = self.ping(dst, timeout_ms=timeout_ms, ttl=ttl)[0]
            if rtt is not None:
                hops.append(dst)
                return hops
            errs = [e for e in self._h.icmp_errors()[seen:] if e["type"] == 11 and e["orig_dst"] == dst]
            hops.append(errs[0]["from"] if errs else None)
        return hops

    def ping6(self, dst: str, count: int = 1, timeout_ms: float = 1000.0, size: int = 56, hop_limit: int = 0) -> list:
        """ICMPv6 echo; sizes above the path MTU are fragmented (up to 65527);
        hop_limit 0 is the stack's default (64)."""
        if count < 0 or size < 0 or size > 65527:
            raise ValueError("count must be >= 0 and size in 0..65527")
        return self._sim._s.ping6(self._h, dst, count, int(timeout_ms * 1e9), size, hop_limit)

    def udp_socket(self) -> UdpSocket:
        return UdpSocket(self._sim, self._h.udp_socket())

    def stats(self) -> dict:
        """Per-layer packet/byte counters and drop reasons of the stack."""
        return self._h.stats()

    def inject(self, frame: bytes, fcs_error: bool = False) -> None:
        """Deliver a raw Ethernet frame (no FCS) to this host's NIC as if from the wire."""
        self._h.inject(bytes(frame), fcs_error)

    def __repr__(self) -> str:
        return f"Host({self.name!r}, nic={self._h.nic_kind})"


class Link:
    def __init__(self, core, a: Host, b: Host):
        self._l = core
        self.a, self.b = a, b

    @property
    def rate_gbps(self) -> float:
        return self._l.rate_gbps

    @property
    def latency_ns(self) -> float:
        return self._l.latency_ns

    def stats(self) -> dict:
        """Frames, bytes and wire-busy time in each direction (a->b, b->a)."""
        return {f"{self.a.name}->{self.b.name}": self._l.stats(0), f"{self.b.name}->{self.a.name}": self._l.stats(1)}


class Simulation:
    """Hosts, links and captures on one virtual clock, seeded and deterministic."""

    def __init__(self, seed: int = 1):
        if not isinstance(seed, int) or seed < 0:
            raise ValueError("seed must be a non-negative int")
        self._s = _core.Simulation(seed)
        self.hosts: dict[str, Host] = {}
        self.links: list[Link] = []

    def add_host(self, name: str, nic=None) -> Host:
        nic = nic if nic is not None else SoftNic()
        if not isinstance(nic, (RtlNic, SoftNic)):
            raise TypeError("nic must be a veridian.RtlNic or veridian.SoftNic")
        h = Host(self, self._s.add_host(name, nic._spec()))
        self.hosts[name] = h
        return h

    def connect(self, a: Host, b: Host, rate_gbps: float = 100.0, latency_ns: float = 500.0) -> Link:
        link = Link(self._s.connect(a._h, b._h, float(rate_gbps), float(latency_ns)), a, b)
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

    def capture(self, link: Link, path: str) -> None:
        """Write every frame on `link` (both directions) to a pcap file."""
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
        """Per RtlNic: cycles evaluated, cycles skipped while idle, wakeups."""
        return dict(self._s.run_stats())

    @property
    def events_run(self) -> int:
        return self._s.events_run


from .testbench import NicTestbench  # noqa: E402  (needs RtlNic/SoftNic above)
