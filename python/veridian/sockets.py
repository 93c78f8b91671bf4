"""Sockets of a simulated host, shaped like Python's socket module: UDP, TCP
(IPv4 or IPv6), raw IP and local (Unix-domain style) sockets. Host makes them
(host.udp_socket(), ...); waiting calls run the host's Simulation."""

from __future__ import annotations

import errno
from typing import Optional

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


class _OnCore:
    """The host core this socket's calls run on when the host has CPUs
    (vd.Cpus); -1 (the default) is the host's application core."""

    @property
    def cpu(self) -> int:
        return self._s.cpu

    @cpu.setter
    def cpu(self, core: int) -> None:
        if not isinstance(core, int) or core < -1:
            raise ValueError(f"cpu must be a core number or -1, not {core!r}")
        self._s.cpu = core


class _Closing:
    """close() and the context-manager protocol, over the core socket."""

    def close(self) -> None:
        self._s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Datagrams:
    """The receive queue and IP_TTL of a datagram socket (UDP, raw)."""

    @property
    def pending(self) -> int:
        return self._s.pending

    @property
    def ttl(self) -> int:
        """IP_TTL / hop limit of datagrams sent from this socket (0 = the stack's default)."""
        return self._s.ttl

    @ttl.setter
    def ttl(self, value: int) -> None:
        self._s.ttl = value


class UdpSocket(_Timeouts, _InetOptions, _Datagrams, _OnCore, _Closing):
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


    def getsockname(self) -> tuple[str, int]:
        return (self._s.local_addr, self._s.local_port)



class TcpSocket(_Timeouts, _InetOptions, _OnCore, _Closing):
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



def _ip_of(addr) -> str:
    if isinstance(addr, str):
        return addr
    if isinstance(addr, tuple) and addr and isinstance(addr[0], str):
        return addr[0]
    raise TypeError(f"address must be an ip string or an (ip, port) tuple, not {addr!r}")


class RawSocket(_Timeouts, _Datagrams, _OnCore, _Closing):
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
    def family(self) -> int:
        return self._s.family

    @property
    def proto(self) -> int:
        return self._s.protocol

    def set_rx_queue_limit(self, n: int) -> None:
        self._s.rx_queue_limit = int(n)



class LocalSocket(_Timeouts, _Closing):
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


