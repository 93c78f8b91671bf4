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

import errno
from dataclasses import dataclass, field
from typing import Callable, Optional

from . import _veridian as _core
from . import abi

__all__ = [
    "Simulation", "Host", "RtlNic", "SoftNic", "Link", "UdpSocket", "TcpSocket", "RawSocket", "LocalSocket",
    "DmaConfig",
    "AbiMismatchError", "abi", "rtl_widths", "NicTestbench", "LinkFaults", "Switch",
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
    tx_csum: bool = True                 # let the stack hand UDP/TCP checksums to the NIC's RTL
    tso: bool = True                     # let TCP hand the NIC sends of up to 64 KiB (needs tx_csum)
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
        s.tso = bool(self.tso)
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
    tx_csum: bool = True                 # finish UDP/TCP checksums with the offload/ software model
    tso: bool = True                     # segment TCP sends with the offload/ model (needs tx_csum)
    irq_frames: int = 1                  # interrupt moderation: frames per receive burst
    irq_delay_ns: float = 0.0            # ... or this long after the first one (0: no timer)

    def _spec(self) -> "_core.NicSpec":
        if not 1 <= self.queues <= abi.MAX_QUEUES:
            raise ValueError(f"queues must be in 1..{abi.MAX_QUEUES}")
        if not 68 <= self.mtu <= 9000:
            raise ValueError("mtu must be in 68..9000")
        if not 1 <= self.irq_frames <= 0xFFFF:
            raise ValueError("irq_frames must be in 1..65535")
        if not 0 <= self.irq_delay_ns <= 1e9:
            raise ValueError("irq_delay_ns must be in 0..1e9 (one second)")
        s = _core.NicSpec()
        s.kind = _core.NicSpec.Kind.SOFT
        s.queues = self.queues
        s.mtu = self.mtu
        s.tx_csum = bool(self.tx_csum)
        s.tso = bool(self.tso)
        s.irq_frames = int(self.irq_frames)
        s.irq_delay_ns = float(self.irq_delay_ns)
        return s


# settimeout(None) ("blocking") still needs a bound on simulated time: a
# simulation with nothing left to happen would otherwise never return.
BLOCKING_LIMIT_S = 3600.0


class _Timeouts:
    """settimeout()/gettimeout()/setblocking() like Python's socket, in
    simulated seconds: 0.0 (the default) is non-blocking (BlockingIOError
    when nothing is ready), t > 0 runs the simulation up to t seconds of
    simulated time (paced wall-clock time on a TAP) and then raises
    TimeoutError (socket.timeout), None waits up to BLOCKING_LIMIT_S.
    A timeout_ns given to a call overrides it (0: non-blocking)."""

    _timeout: Optional[float] = 0.0

    def settimeout(self, value: Optional[float]) -> None:
        if value is not None:
            value = float(value)
            if value < 0:
                raise ValueError("Timeout value out of range")
        self._timeout = value
        # Also SO_RCVTIMEO of the C++ socket (what the Asio layer uses).
        self._s.recv_timeout_ps = 0 if not value else int(round(value * 1e12))

    def gettimeout(self) -> Optional[float]:
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        self.settimeout(None if flag else 0.0)

    def _wait_ns(self, timeout_ns) -> float:
        if timeout_ns is not None:
            return float(timeout_ns)
        if self._timeout is None:
            return BLOCKING_LIMIT_S * 1e9
        return self._timeout * 1e9

    def _wait(self, ready, timeout_ns, what: str) -> None:
        """Runs the simulation until ready() or the timeout; raises
        BlockingIOError (no timeout) or TimeoutError."""
        if ready():
            return
        wait = self._wait_ns(timeout_ns)
        if wait <= 0:
            raise BlockingIOError(f"{what}: nothing ready (run the simulation, settimeout(), or pass timeout_ns)")
        if not self._sim.run_until(ready, timeout_ns=wait):
            raise TimeoutError(f"{what}: timed out after {wait:g} ns of simulated time")


def _addr(addr) -> tuple[str, int]:
    if not (isinstance(addr, tuple) and len(addr) == 2 and isinstance(addr[0], str) and isinstance(addr[1], int)):
        raise TypeError(f"address must be an (ip: str, port: int) tuple, not {addr!r}")
    return addr


class _InetOptions:
    """Options shared by UDP and TCP sockets."""

    @property
    def v6only(self) -> bool:
        """IPV6_V6ONLY: always True (no dual-stack sockets)."""
        return True

    @v6only.setter
    def v6only(self, on: bool) -> None:
        if not on:
            raise OSError(errno.EOPNOTSUPP, "IPV6_V6ONLY off (dual-stack sockets) is not supported: "
                                            "use an IPv4 socket for IPv4 peers")

    @property
    def reuse_addr(self) -> bool:
        """SO_REUSEADDR (before bind): UDP sockets that all set it share a
        port; TCP may take a port held only by TIME-WAIT connections."""
        return self._s.reuse_addr

    @reuse_addr.setter
    def reuse_addr(self, on: bool) -> None:
        self._s.reuse_addr = bool(on)


class UdpSocket(_Timeouts, _InetOptions):
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

    def recvfrom(self, timeout_ns: Optional[float] = None):
        """Next datagram as (data, (ip, port)). Without one queued the
        simulation runs up to timeout_ns (default: settimeout()'s value).
        Raises BlockingIOError if none is queued and there is no timeout,
        or TimeoutError if none arrived in time."""
        d = self._s.recvfrom()
        if d is not None:
            return d
        self._wait(lambda: self._s.pending > 0, timeout_ns, "recvfrom")
        return self._s.recvfrom()

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


class TcpSocket(_Timeouts, _InetOptions):
    """A TCP socket on a simulated host (stream semantics like socket.SOCK_STREAM).

    IPv4 or IPv6: bind(("::", 80)) or connect(("2001:db8::2", 80)) makes an
    IPv6 socket (the family is fixed by the first bind/connect).

    Calls never block the caller's thread; the ones with a timeout_ns run the
    simulation (virtual time, or paced real time on a TAP) until they can
    finish. Errors are OSError with errno set (ECONNREFUSED, ECONNRESET,
    ETIMEDOUT, EPIPE, ...)."""

    def __init__(self, sim: "Simulation", core):
        self._sim = sim
        self._s = core

    def bind(self, addr) -> None:
        ip, port = _addr(addr)
        self._s.bind(ip, port)

    def listen(self, backlog: int = 128) -> None:
        self._s.listen(backlog)

    def accept(self, timeout_ns: Optional[float] = None):
        """An established connection as (TcpSocket, (ip, port)); without one
        the simulation runs up to timeout_ns (default: settimeout()).
        Raises BlockingIOError / TimeoutError like recvfrom."""
        self._wait(lambda: self._s.pending_accepts > 0, timeout_ns, "accept")
        c = self._s.accept()
        if c is None:
            raise TimeoutError("accept: no connection")
        s = TcpSocket(self._sim, c)
        return s, s.getpeername()

    def connect(self, addr, timeout_ns: float = 1e9) -> None:
        """Connects; runs the simulation until ESTABLISHED (or the error)."""
        ip, port = _addr(addr)
        self._s.connect(ip, port)
        self._sim.run_until(lambda: self._s.state != "SYN-SENT" and self._s.state != "SYN-RECEIVED",
                            timeout_ns=timeout_ns)
        self._raise_if_failed()
        if self._s.state != "ESTABLISHED":
            raise TimeoutError(f"connect: still {self._s.state} after {timeout_ns} ns")

    def connect_ex(self, addr) -> None:
        """Starts the handshake and returns at once (non-blocking connect)."""
        ip, port = _addr(addr)
        self._s.connect(ip, port)

    def _raise_if_failed(self):
        err = self._s.error
        if err is not None:
            raise OSError(err[0], err[1])

    def send(self, data: bytes) -> int:
        """Queues what fits in the send buffer now; returns how much (0: full)."""
        return self._s.send(bytes(data))

    def sendall(self, data: bytes, timeout_ns: float = 60e9) -> None:
        """Queues all of data, running the simulation while the buffer is full."""
        view = memoryview(bytes(data))
        off = 0
        deadline = self._sim.now_ns + timeout_ns
        while off < len(view):
            n = self._s.send(bytes(view[off:off + (1 << 20)]))
            off += n
            if off < len(view):
                if self._sim.now_ns >= deadline:
                    raise TimeoutError(f"sendall: {off} of {len(view)} bytes queued in time")
                self._sim.run_until(lambda: self._s.writable > 0 or self._s.error is not None, timeout_ns=deadline - self._sim.now_ns)
                self._raise_if_failed()

    def recv(self, bufsize: int, timeout_ns: Optional[float] = None) -> bytes:
        """Up to bufsize bytes; b"" at end of stream. Without data: runs the
        simulation up to timeout_ns (default: settimeout()), else raises
        BlockingIOError/TimeoutError."""
        if self._s.readable == 0 and not self._s.eof:
            self._raise_if_failed()
            self._wait(lambda: self._s.readable > 0 or self._s.eof or self._s.error is not None, timeout_ns, "recv")
            self._raise_if_failed()
        return self._s.recv(bufsize)

    def recv_all(self, timeout_ns: float = 60e9) -> bytes:
        """Everything until the peer's FIN."""
        out = bytearray()
        deadline = self._sim.now_ns + timeout_ns
        while True:
            left = deadline - self._sim.now_ns
            if left <= 0:
                raise TimeoutError(f"recv_all: {len(out)} bytes, no end of stream in time")
            chunk = self.recv(1 << 20, timeout_ns=left)
            if not chunk and self._s.eof:
                return bytes(out)
            out += chunk

    def shutdown(self, how: str = "write") -> None:
        if how not in ("write", "wr", "SHUT_WR"):
            raise ValueError("only shutdown of the write side is supported")
        self._s.shutdown_write()

    def close(self) -> None:
        self._s.close()

    def abort(self) -> None:
        """Close with a reset (SO_LINGER 0)."""
        self._s.abort()

    @property
    def state(self) -> str:
        return self._s.state

    @property
    def nodelay(self) -> bool:
        return self._s.nodelay

    @nodelay.setter
    def nodelay(self, on: bool) -> None:
        self._s.nodelay = bool(on)

    def set_keepalive(self, on: bool = True) -> None:
        self._s.set_keepalive(bool(on))

    def set_buffers(self, sndbuf: int = 0, rcvbuf: int = 0) -> None:
        """SO_SNDBUF / SO_RCVBUF in bytes (0 = unchanged); before connect/listen."""
        self._s.set_buffers(int(sndbuf), int(rcvbuf))

    def set_congestion_control(self, name: str) -> None:
        """'cubic' (default) or 'newreno'."""
        self._s.set_congestion_control(name)

    def info(self) -> dict:
        """TCP_INFO-like counters: cwnd, srtt, retransmits, tso_sends, ..."""
        return self._s.info()

    def getsockname(self) -> tuple[str, int]:
        """(ip, port); an IPv6 socket gives the IPv6 address string."""
        return tuple(self._s.local_addr)

    def getpeername(self) -> tuple[str, int]:
        return tuple(self._s.remote_addr)

    @property
    def is_v6(self) -> bool:
        """IPv6 socket: fixed by the first bind/connect ("2001:db8::1" or "::");
        IPv6 ports are their own namespace (IPV6_V6ONLY)."""
        return self._s.is_v6

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _ip_of(addr) -> str:
    if isinstance(addr, str):
        return addr
    if isinstance(addr, tuple) and addr and isinstance(addr[0], str):
        return addr[0]
    raise TypeError(f"address must be an ip string or an (ip, port) tuple, not {addr!r}")


class RawSocket(_Timeouts):
    """A raw IP socket (socket.SOCK_RAW) for one IP protocol number.

    recvfrom() gives (data, (ip, 0)): a copy of every datagram of the
    protocol delivered to the host; IPv4 ones start with their IP header,
    IPv6 ones are the payload only (as on Linux). sendto(payload, ip) sends
    one datagram whose IP header the stack builds."""

    def __init__(self, sim: "Simulation", core):
        self._sim = sim
        self._s = core

    def bind(self, addr) -> None:
        self._s.bind(_ip_of(addr))

    def sendto(self, data: bytes, addr) -> int:
        return self._s.sendto(bytes(data), _ip_of(addr))

    def recvfrom(self, timeout_ns: Optional[float] = None):
        self._wait(lambda: self._s.pending > 0, timeout_ns, "recvfrom")
        data, ip = self._s.recvfrom()
        return data, (ip, 0)

    def recv(self, bufsize: int, timeout_ns: Optional[float] = None) -> bytes:
        return self.recvfrom(timeout_ns)[0][:bufsize]

    @property
    def pending(self) -> int:
        return self._s.pending

    @property
    def family(self) -> int:
        return self._s.family

    @property
    def proto(self) -> int:
        return self._s.protocol

    @property
    def ttl(self) -> int:
        return self._s.ttl

    @ttl.setter
    def ttl(self, value: int) -> None:
        self._s.ttl = value

    def set_rx_queue_limit(self, n: int) -> None:
        self._s.rx_queue_limit = int(n)

    def close(self) -> None:
        self._s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LocalSocket(_Timeouts):
    """A local (Unix-domain style, socket.AF_UNIX) socket inside one host:
    kind "stream" or "dgram", named by string paths. Data moves in memory at
    the call (no packets, no simulated time); waiting calls run the
    simulation like the other sockets, so a peer driven by simulated events
    (or the timeout) ends the wait."""

    def __init__(self, sim: "Simulation", core):
        self._sim = sim
        self._s = core

    @property
    def kind(self) -> str:
        return self._s.kind

    def bind(self, path: str) -> None:
        self._s.bind(str(path))

    def listen(self, backlog: int = 128) -> None:
        self._s.listen(backlog)

    def accept(self, timeout_ns: Optional[float] = None):
        """(LocalSocket, peer name) of a waiting connection."""
        self._wait(lambda: self._s.pending_accepts > 0, timeout_ns, "accept")
        c = LocalSocket(self._sim, self._s.accept())
        return c, c.getpeername()

    def connect(self, path: str) -> None:
        """Immediate; ConnectionRefusedError when nothing listens at path."""
        self._s.connect(str(path))

    def send(self, data: bytes) -> int:
        """Stream: what fits in the peer's buffer (0: full). Dgram
        (connected): the whole datagram, or 0 when the receiver is full."""
        return self._s.send(bytes(data))

    def sendall(self, data: bytes, timeout_ns: Optional[float] = None) -> None:
        view = memoryview(bytes(data))
        off = 0
        while off < len(view):
            off += self._s.send(bytes(view[off:]))
            if off < len(view):
                self._wait(lambda: self._s.writable > 0, timeout_ns, "sendall")

    def recv(self, bufsize: int, timeout_ns: Optional[float] = None) -> bytes:
        """Stream: up to bufsize bytes, b"" at end of stream. Dgram: the next
        datagram cut to bufsize."""
        if self._s.kind == "stream":
            if not self._s.connected and self._s.readable == 0:
                return self._s.recv(bufsize)  # ENOTCONN, or b"" after the peer closed
            self._wait(lambda: self._s.readable > 0 or self._s.eof, timeout_ns, "recv")
        else:
            self._wait(lambda: self._s.pending > 0, timeout_ns, "recv")
        return self._s.recv(bufsize)

    def sendto(self, data: bytes, path: str) -> int:
        """Dgram: ConnectionRefusedError for an unbound name, BlockingIOError
        when the receiver's queue is full."""
        return self._s.sendto(bytes(data), str(path))

    def recvfrom(self, timeout_ns: Optional[float] = None):
        """Dgram: (data, sender's name)."""
        self._wait(lambda: self._s.pending > 0, timeout_ns, "recvfrom")
        return self._s.recvfrom()

    def shutdown(self, how: str = "write") -> None:
        if how not in ("write", "wr", "SHUT_WR"):
            raise ValueError("only shutdown of the write side is supported")
        self._s.shutdown_write()

    def set_rcvbuf(self, n: int) -> None:
        self._s.set_rcvbuf(int(n))

    @property
    def eof(self) -> bool:
        return self._s.eof

    def getsockname(self) -> str:
        return self._s.local_path

    def getpeername(self) -> str:
        return self._s.peer_path

    def close(self) -> None:
        self._s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _NicView:
    """host.nic / host.nics[k]: one NIC's counters and, for an RtlNic, its registers."""

    def __init__(self, host: "Host", index: int = 0):
        self._h = host._h
        self.index = index  # NIC number: 0, 1, ... in the order they were added

    @property
    def ifindex(self) -> int:
        """The stack's interface index of this NIC."""
        return self._h.ifindex_at(self.index)

    @property
    def kind(self) -> str:
        return self._h.nic_kind_at(self.index)

    @property
    def mac(self) -> str:
        return self._h.mac_at(self.index)

    def stats(self) -> dict:
        return dict(self._h.nic_stats_at(self.index))

    def registers(self) -> dict:
        """NIC statistics registers read over MMIO (RtlNic only; costs NIC cycles)."""
        return dict(self._h.nic_registers_at(self.index))

    def read_reg(self, addr: int) -> int:
        return self._h.read_reg_at(self.index, addr)

    def pool_stats(self) -> dict:
        return dict(self._h.pool_stats_at(self.index))

    def __repr__(self) -> str:
        return f"Nic({self.index}, {self.kind}, {self.mac})"


class Host:
    """A simulated host: the protocol stack, sockets and one or more NICs
    (host.nic is the first; host.nics all of them, in the order added)."""

    def __init__(self, sim: "Simulation", core):
        self._sim = sim
        self._h = core
        self.nic = _NicView(self, 0)
        self.nics: list[_NicView] = [self.nic]

    def add_nic(self, nic=None) -> int:
        """Add a NIC (vd.RtlNic(...) or vd.SoftNic(...); default SoftNic) and
        return its ifindex, which is what add_address(ifindex=) and
        Simulation.connect(a_nic=/b_nic=) take. Its MAC is
        02:56:(0x44+k):hh:hh:hh for the host's k-th NIC (k from 0), hh the
        host's number."""
        nic = nic if nic is not None else SoftNic()
        if not isinstance(nic, (RtlNic, SoftNic)):
            raise TypeError("nic must be a veridian.RtlNic or veridian.SoftNic")
        ifindex = self._h.add_nic(nic._spec())
        self.nics.append(_NicView(self, len(self.nics)))
        return ifindex

    def _nic_number(self, ifindex: int) -> int:
        """The NIC that is interface `ifindex` (IndexError if none is)."""
        k = self._h.nic_for_ifindex(int(ifindex))
        if k is None:
            raise IndexError(f"host {self.name!r} has no NIC with ifindex {ifindex}")
        return k

    @property
    def name(self) -> str:
        return self._h.name

    @property
    def mac(self) -> str:
        return self._h.mac

    def add_address(self, cidr: str, ifindex: int = 0) -> None:
        """Add an address/prefix to interface `ifindex` (default the first
        NIC): "10.0.0.1/24", or "2001:db8::1/64" (an IPv6 address turns IPv6
        on and is tentative until duplicate address detection passes);
        ValueError for an interface the host lacks."""
        if ifindex == 0:
            self._h.add_address(cidr)
        else:
            self._h.add_address_if(int(ifindex), cidr)

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

    def tcp_socket(self) -> TcpSocket:
        return TcpSocket(self._sim, self._h.tcp_socket())

    def raw_socket(self, proto: int, family: int = 4) -> "RawSocket":
        """A raw IP socket for protocol number `proto` (family 4 or 6)."""
        return RawSocket(self._sim, self._h.raw_socket(int(proto), int(family)))

    def local_socket(self, kind: str = "stream") -> "LocalSocket":
        """A local (Unix-domain style) socket: kind "stream" or "dgram"."""
        return LocalSocket(self._sim, self._h.local_socket(str(kind)))

    def stats(self) -> dict:
        """Per-layer packet/byte counters and drop reasons of the stack."""
        return self._h.stats()

    def inject(self, frame: bytes, fcs_error: bool = False, ifindex: int = 0) -> None:
        """Deliver a raw Ethernet frame (no FCS) to this host's NIC as if from the wire."""
        if ifindex == 0:
            self._h.inject(bytes(frame), fcs_error)
        else:
            self._h.inject_at(self._nic_number(ifindex), bytes(frame), fcs_error)

    def __repr__(self) -> str:
        return f"Host({self.name!r}, nic={self._h.nic_kind})"


_NS = 1000  # ps per ns


@dataclass
class LinkFaults:
    """Faults for one direction of a link (all off by default). Probabilities
    are per frame. Seeded from the Simulation's seed, the link's index and the
    direction, so a run repeats bit for bit. See docs/python.md."""
    loss: float = 0.0               # frame lost
    duplicate: float = 0.0          # a second copy arrives one frame time later
    reorder: float = 0.0            # frame held back by reorder_delay_ns (later frames overtake it)
    reorder_delay_ns: float = 10_000.0
    corrupt: float = 0.0            # corrupt_bits distinct random bits flipped
    corrupt_bits: int = 1
    corrupt_from: int = 0           # first byte that may be hit (14 spares the Ethernet header)
    corrupt_keep_fcs: bool = False  # False: delivered with a bad FCS (the NIC drops it); True: as if the FCS was recomputed
    jitter_ns: float = 0.0          # uniform extra delay in [0, jitter_ns], order kept
    cap_gbps: float = 0.0           # bandwidth cap (0: none), below the link rate
    cap_queue: int = 0              # frames that may wait for the cap (0: unbounded); more are tail-dropped

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


class Simulation:
    """Hosts, links and captures on one virtual clock, seeded and deterministic."""

    def __init__(self, seed: int = 1):
        if not isinstance(seed, int) or seed < 0:
            raise ValueError("seed must be a non-negative int")
        self._s = _core.Simulation(seed)
        self.hosts: dict[str, Host] = {}
        self.switches: dict[str, Switch] = {}
        self.links: list[Link] = []

    def add_host(self, name: str, nic=None) -> Host:
        nic = nic if nic is not None else SoftNic()
        if not isinstance(nic, (RtlNic, SoftNic)):
            raise TypeError("nic must be a veridian.RtlNic or veridian.SoftNic")
        h = Host(self, self._s.add_host(name, nic._spec()))
        self.hosts[name] = h
        return h

    def add_switch(self, name: Optional[str] = None, ports: int = 8, ageing_s: float = 300.0,
                   latency_ns: float = 0.0, table_size: int = 4096) -> Switch:
        """A learning L2 switch with `ports` ports (names are shared with hosts;
        default "sw0", "sw1", ...). latency_ns: forwarding delay after a frame
        has fully arrived."""
        if name is None:
            name = f"sw{len(self.switches)}"
        w = Switch(self, self._s.add_switch(name, int(ports), float(ageing_s), float(latency_ns), int(table_size)))
        self.switches[name] = w
        return w

    def connect(self, a, b, rate_gbps: float = 100.0, latency_ns: float = 500.0, faults=None,
                a_nic: Optional[int] = None, b_nic: Optional[int] = None) -> Link:
        """Cable two ends (Host or Switch). For a host end, a_nic/b_nic names
        the NIC (its ifindex; default 0); for a switch end, the port
        (default: the lowest free one). faults: a LinkFaults for both
        directions, or a pair (a->b, b->a), None for a perfect wire."""
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
        r, lat = float(rate_gbps), float(latency_ns)
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


from .testbench import NicTestbench  # noqa: E402  (needs RtlNic/SoftNic above)
