"""An iperf3 server (TCP tests) on a Veridian host, so Linux's own `iperf3 -c`
can measure the stack.

It speaks iperf3's control protocol (the one `iperf3 -s` speaks, 3.x):
the client's 37-byte cookie on a control connection, a JSON parameter
exchange, one data connection per stream (each opening with the same
cookie), TEST_START/TEST_RUNNING, the client's TEST_END, results as JSON
both ways, DISPLAY_RESULTS, IPERF_DONE. Normal (client sends), reverse
(`-R`, we send) and parallel streams (`-P`) are served; UDP, SCTP and
`--bidir` tests are refused with SERVER_ERROR, which the client reports.
One test at a time: a second client is told ACCESS_DENIED, as iperf3 does.

Driven by `step()` between simulation steps (see veridian.tools.tap); never blocks.
"""
from __future__ import annotations

import json
import os
import struct

# iperf3's control states (one signed byte each on the control connection).
TEST_START, TEST_RUNNING, TEST_END = 1, 2, 4
PARAM_EXCHANGE, CREATE_STREAMS = 9, 10
SERVER_TERMINATE, CLIENT_TERMINATE = 11, 12
EXCHANGE_RESULTS, DISPLAY_RESULTS, IPERF_DONE = 13, 14, 16
ACCESS_DENIED, SERVER_ERROR = -1, -2
COOKIE_SIZE = 37          # 36 characters and a NUL
MAX_PARAMS = 64 * 1024    # a parameter or result JSON longer than this is refused
IE_UNIMP = 13            # iperf3 i_errno "not implemented yet": how the client reports our refusals


def _state(b: int) -> bytes:
    return struct.pack("b", b)


class _Peer:
    """A connection and what has been read from it but not yet used."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.out = bytearray()
        self.eof = False

    def pull(self, limit: int = 1 << 20) -> int:
        n = 0
        while self.sock._s.readable and n < limit:
            d = self.sock._s.recv(1 << 20)
            n += len(d)
            self.buf += d
        if self.sock._s.eof:
            self.eof = True
        return n

    def take(self, n: int) -> bytes | None:
        if len(self.buf) < n:
            return None
        d = bytes(self.buf[:n])
        del self.buf[:n]
        return d

    def push(self, data: bytes = b"") -> None:
        self.out += data
        while self.out:
            k = self.sock.send(bytes(self.out[: 1 << 20]))
            if k == 0:
                break
            del self.out[:k]

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Iperf3Server:
    """Serves iperf3 tests on one TCP port (5201 by default)."""

    def __init__(self, sim, host, port: int = 5201, addrs=("0.0.0.0",)):
        self.sim = sim
        self.listeners = []
        for a in addrs:
            s = host.tcp_socket()
            s.set_buffers(sndbuf=4 << 20, rcvbuf=4 << 20)
            s.bind((a, port))
            s.listen(16)
            self.listeners.append(s)
        self.tests: list[dict] = []   # one summary per finished (or failed) test
        self.newcomers: list[_Peer] = []  # accepted, first 37 bytes not yet read
        self._reset()

    # -- the one test in progress ------------------------------------------
    def _reset(self) -> None:
        for p in getattr(self, "streams", []) + getattr(self, "closed_streams", []):
            p.close()
        if getattr(self, "ctrl", None) is not None:
            self.ctrl.close()
        self.ctrl: _Peer | None = None
        self.phase = "idle"
        self.cookie = b""
        self.params: dict = {}
        self.streams: list[_Peer] = []
        self.closed_streams: list[_Peer] = []
        self.stream_bytes: list[int] = []
        self.retransmits: list[int] = []
        self.t0 = self.t_end = 0
        self.drain_until = self.idle_since = 0
        self.client_results: dict = {}

    def _fail(self, why: str) -> None:
        self.tests.append({"ok": False, "error": why, "params": self.params})
        self._reset()

    def _refuse(self, peer: _Peer, code: int, why: str) -> None:
        """SERVER_ERROR then i_errno and errno (network order), as iperf3's server sends them."""
        peer.push(_state(SERVER_ERROR) + struct.pack(">ii", code, 0))
        self.tests.append({"ok": False, "error": why, "params": self.params})
        peer.close()
        self.ctrl = None
        self._reset()

    def step(self) -> None:
        for lst in self.listeners:
            while lst._s.pending_accepts:
                self.newcomers.append(_Peer(lst.accept()[0]))
        # The test in progress first: a client that just sent IPERF_DONE may
        # already have started the next test, which must not find us busy.
        if self.ctrl is not None:
            try:
                getattr(self, "_" + self.phase)()
            except OSError as e:  # the client reset a connection mid-test
                self._fail(f"connection error in phase {self.phase}: {e}")
        self._sort_newcomers()

    def _sort_newcomers(self) -> None:
        """A new connection is a control connection, one of the test's data
        streams, or an intruder; its first 37 bytes (the cookie) tell which."""
        keep = []
        for p in self.newcomers:
            try:
                p.pull(COOKIE_SIZE)
            except OSError:
                p.close()
                continue
            if len(p.buf) < COOKIE_SIZE:
                if p.eof:
                    p.close()
                else:
                    keep.append(p)
                continue
            cookie = p.take(COOKIE_SIZE)
            if self.phase == "idle":
                self.ctrl, self.cookie, self.phase = p, cookie, "params"
                p.push(_state(PARAM_EXCHANGE))
            elif self.phase == "streams" and cookie == self.cookie:
                self.streams.append(p)
                self.stream_bytes.append(0)
            else:  # busy with another client's test
                p.push(_state(ACCESS_DENIED))
                p.close()
        self.newcomers = keep

    def _params(self) -> None:
        c = self.ctrl
        c.pull()
        if len(c.buf) >= 4:
            (n,) = struct.unpack(">I", c.buf[:4])
            if n > MAX_PARAMS:
                return self._fail(f"parameter JSON of {n} bytes")
            if len(c.buf) >= 4 + n:
                c.take(4)
                try:
                    self.params = json.loads(c.take(n).decode())
                except ValueError as e:
                    return self._fail(f"bad parameter JSON: {e}")
                p = self.params
                if p.get("udp") or p.get("sctp"):
                    return self._refuse(c, IE_UNIMP, "only TCP tests are served")
                if p.get("bidirectional"):
                    return self._refuse(c, IE_UNIMP, "--bidir is not served")
                self.nstreams = max(1, int(p.get("parallel", 1)))
                self.blksize = max(1, min(int(p.get("len", 128 * 1024)), 1 << 20))
                self.block = bytes((i * 31 + 7) & 0xFF for i in range(self.blksize))
                self.phase = "streams"
                c.push(_state(CREATE_STREAMS))
                return None
        if c.eof:
            self._fail("client closed during the parameter exchange")
        return None

    def _streams(self) -> None:
        self.ctrl.pull()
        if self.ctrl.eof:
            return self._fail("client closed while creating streams")
        if len(self.streams) >= self.nstreams:
            self.t0 = self.sim.now_ns
            self.cpu0 = os.times()
            self.phase = "running"
            self.ctrl.push(_state(TEST_START) + _state(TEST_RUNNING))
        return None

    def _close_streams(self) -> None:
        for p in self.streams:
            p.close()
        self.closed_streams, self.streams = self.streams, []

    def _move_data(self) -> int:
        """Receive (normal) or send (reverse) on every stream; bytes moved."""
        moved = 0
        for i, s in enumerate(self.streams):
            if self.params.get("reverse"):
                if self.phase == "running":
                    while s.sock._s.writable >= self.blksize:
                        k = s.sock.send(self.block)
                        self.stream_bytes[i] += k
                        moved += k
                        if k < self.blksize:
                            break
                s.pull()
                s.buf.clear()
            else:
                k = s.pull()
                s.buf.clear()
                self.stream_bytes[i] += k
                moved += k
        return moved

    def _running(self) -> None:
        self._move_data()
        c = self.ctrl
        c.pull()
        if c.buf:
            st = struct.unpack("b", c.take(1))[0]
            if st == TEST_END:
                self.t_end = self.sim.now_ns
                self.retransmits = [int(p.sock.info().get("retransmits", 0)) for p in self.streams]
                if self.params.get("reverse"):
                    # As iperf3's server does: close the streams now. The
                    # close is graceful, so what is queued still arrives,
                    # then EOF, which a client blocked reading a block needs.
                    self._close_streams()
                    self.phase = "results"
                    c.push(_state(EXCHANGE_RESULTS))
                else:
                    # The client's last block went before TEST_END, but on
                    # another connection: read on until the streams go quiet.
                    self.phase = "draining"
                    self.idle_since = self.sim.now_ns
                    self.drain_until = self.sim.now_ns + 2_000_000_000
            elif st == CLIENT_TERMINATE:
                self._fail("client terminated the test")
            else:
                self._fail(f"unexpected control state {st} while running")
        elif c.eof:
            self._fail("client closed the control connection while running")

    def _draining(self) -> None:
        if self._move_data():
            self.idle_since = self.sim.now_ns
        if self.sim.now_ns - self.idle_since >= 50_000_000 or self.sim.now_ns >= self.drain_until:
            self._close_streams()
            self.phase = "results"
            self.ctrl.push(_state(EXCHANGE_RESULTS))

    def _results(self) -> None:
        c = self.ctrl
        c.pull()
        if len(c.buf) >= 4:
            (n,) = struct.unpack(">I", c.buf[:4])
            if n > MAX_PARAMS:
                return self._fail(f"result JSON of {n} bytes")
            if len(c.buf) >= 4 + n:
                c.take(4)
                try:
                    self.client_results = json.loads(c.take(n).decode())
                except ValueError as e:
                    return self._fail(f"bad result JSON: {e}")
                body = json.dumps(self._our_results()).encode()
                c.push(struct.pack(">I", len(body)) + body + _state(DISPLAY_RESULTS))
                self.phase = "done"
                return None
        if c.eof:
            self._fail("client closed before exchanging results")
        return None

    def _our_results(self) -> dict:
        dur = max(self.t_end - self.t0, 1) / 1e9
        cpu = os.times()
        busy_user = cpu.user - self.cpu0.user
        busy_sys = cpu.system - self.cpu0.system
        wall = max(cpu.elapsed - self.cpu0.elapsed, 1e-9)
        sender = bool(self.params.get("reverse"))
        streams = []
        ids = [1] + list(range(3, self.nstreams + 2))  # iperf3 numbers its streams 1, 3, 4, ...
        for sid, n, rex in zip(ids, self.stream_bytes, self.retransmits):
            streams.append({"id": sid, "bytes": n, "retransmits": rex if sender else -1,
                            "jitter": 0, "errors": 0, "omitted_errors": 0, "packets": 0, "omitted_packets": 0,
                            "start_time": 0, "end_time": dur})
        return {"cpu_util_total": 100.0 * (busy_user + busy_sys) / wall,
                "cpu_util_user": 100.0 * busy_user / wall, "cpu_util_system": 100.0 * busy_sys / wall,
                "sender_has_retransmits": 1 if sender else -1, "congestion_used": "cubic",
                "streams": streams}

    def _done(self) -> None:
        c = self.ctrl
        c.push()
        self._move_data()
        c.pull()
        if c.buf or c.eof:
            st = struct.unpack("b", c.take(1))[0] if c.buf else None
            sent = sum(self.client_results.get("streams", [{}])[i].get("bytes", 0)
                       for i in range(len(self.client_results.get("streams", []))))
            self.tests.append({"ok": st == IPERF_DONE, "reverse": bool(self.params.get("reverse")),
                               "streams": self.nstreams, "bytes": sum(self.stream_bytes),
                               "client_bytes": sent, "seconds": (self.t_end - self.t0) / 1e9,
                               "final_state": st})
            self._reset()
