"""A Veridian host on a Linux TAP device, in real time, for people and tests.

    python -m veridian.tools.tap --tap vd0 --addr 10.9.0.2/24 --linux-addr 10.9.0.1/24

The host answers ICMP echo (its stack does that itself) and runs a UDP echo
service (port 7 unless --udp-echo says otherwise) and TCP services: echo (7),
discard (9), a small HTTP responder (80: "GET /" says hello, "GET
/bytes/N" returns N pattern bytes) and an iperf3 server (5201, TCP tests;
see veridian.tools.iperf3). --ping makes Veridian ping a Linux
address once the TAP is up, --tcp-probe sends bytes to a Linux TCP echo
server and checks what comes back. One JSON object per line goes to stdout:
{"ready": ...} once serving, {"ping": ...} per --ping, {"iperf3": ...} per
iperf3 test, {"stats": ...} at the
end (after --duration seconds, or on SIGINT/SIGTERM).

Run it inside a network namespace you made (`ip netns exec NS ...`): the TAP
and the kernel's side of it then live there and no traffic leaves it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import signal
import subprocess
import sys
import time

import veridian as vd
from veridian.tools.iperf3 import Iperf3Server


def _ip(*args: str) -> None:
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"veridian.tools.tap: 'ip {' '.join(args)}' failed: {r.stderr.strip()}")


def pattern(n: int) -> bytes:
    """The bytes /bytes/N serves: i * 31 + 7 mod 256."""
    return bytes((i * 31 + 7) & 0xFF for i in range(256)) * (n // 256) + bytes((i * 31 + 7) & 0xFF for i in range(n % 256))


class _Conn:
    def __init__(self, kind: str, sock):
        self.kind, self.sock = kind, sock
        self.out, self.req = bytearray(), bytearray()
        self.answered = False


class TcpServices:
    """Echo, discard and HTTP on TCP, driven between simulation steps; on
    IPv4 and, with v6=True, also on IPv6 (separate listeners on "::", the
    IPv6 port space being its own)."""

    def __init__(self, host, echo=7, discard=9, http=80, v6=False):
        self.listeners = []  # (kind, listening socket)
        for port, kind in ((echo, "echo"), (discard, "discard"), (http, "http")):
            if not port:
                continue
            for any_addr in ("0.0.0.0", "::") if v6 else ("0.0.0.0",):
                s = host.tcp_socket()
                s.set_buffers(sndbuf=1 << 20, rcvbuf=1 << 20)
                s.bind((any_addr, port))
                s.listen(64)
                self.listeners.append((kind, s))
        self.conns: list[_Conn] = []
        self.bytes = {"echo": 0, "discard": 0, "http": 0}
        self.served = 0

    def step(self):
        for kind, lst in self.listeners:
            while lst._s.pending_accepts:
                self.conns.append(_Conn(kind, lst.accept()[0]))
        alive = []
        for c in self.conns:
            try:
                if self._serve(c):
                    alive.append(c)
            except OSError:  # reset by the peer: forget it
                pass
        self.conns = alive

    def _serve(self, c: "_Conn") -> bool:
        """One step for one connection; False once it is finished."""
        s = c.sock
        while s._s.readable:
            data = s._s.recv(1 << 20)
            self.bytes[c.kind] += len(data)
            if c.kind == "echo":
                c.out += data
            elif c.kind == "http" and not c.answered:
                c.req += data
        if c.kind == "http" and not c.answered and b"\r\n\r\n" in c.req:
            c.out += self.http_answer(bytes(c.req))
            c.answered = True
        while c.out:
            n = s.send(bytes(c.out[: 1 << 20]))
            if n == 0:
                break
            del c.out[:n]
        if c.out:
            return True
        if s._s.eof or c.answered:
            s.close()  # graceful: the stack sends what is queued, then FIN
            self.served += 1
            return False
        return s.state not in ("CLOSED",)

    @staticmethod
    def http_answer(req: bytes) -> bytes:
        line = req.split(b"\r\n", 1)[0].decode("latin-1", "replace").split()
        if len(line) < 2 or line[0] != "GET":
            body, status = b"only GET here\n", "405 Method Not Allowed"
        elif line[1].startswith("/bytes/") and line[1][7:].isdigit() and int(line[1][7:]) <= (256 << 20):
            body, status = pattern(int(line[1][7:])), "200 OK"
        elif line[1] == "/":
            body, status = b"hello from the Veridian stack\n", "200 OK"
        else:
            body, status = b"not found\n", "404 Not Found"
        head = (f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nContent-Type: application/octet-stream\r\n"
                "Connection: close\r\nServer: veridian\r\n\r\n").encode()
        return head + body


def tcp_probe(sim, host, probe: str) -> dict:
    """Connects to a TCP echo server, sends SIZE pattern bytes, checks the echo."""
    addr, port, size = probe.rsplit(":", 2)
    data = pattern(int(size))
    s = host.tcp_socket()
    s.set_buffers(sndbuf=1 << 20, rcvbuf=1 << 20)
    try:
        s.connect((addr, int(port)), timeout_ns=5e9)
    except OSError as e:
        return {"tcp_probe": probe, "ok": False, "error": str(e)}
    off, got = 0, hashlib.sha256()
    n_got = 0
    t_end = sim.now_ns + 120e9
    while n_got < len(data) and sim.now_ns < t_end:
        if off < len(data):
            off += s.send(data[off:off + (1 << 20)])
            if off == len(data):
                s.shutdown()
        sim.run_for(ms=1)
        while s._s.readable:
            chunk = s._s.recv(1 << 20)
            got.update(chunk)
            n_got += len(chunk)
        if s._s.error is not None:
            break
    s.close()
    ok = n_got == len(data) and got.hexdigest() == hashlib.sha256(data).hexdigest()
    return {"tcp_probe": probe, "ok": ok, "got": n_got, "sha256": got.hexdigest(), "info": s.info()}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m veridian.tools.tap", description=__doc__.split("\n\n")[0])
    p.add_argument("--tap", default="vd0", help="TAP interface name (created if missing)")
    p.add_argument("--addr", default="10.9.0.2/24", help="Veridian's address/prefix")
    p.add_argument("--route", action="append", default=[], metavar="CIDR,VIA",
                   help="extra route for Veridian, e.g. 0.0.0.0/0,10.9.0.1")
    p.add_argument("--nic", choices=["soft", "rtl"], default="soft", help="SoftNic (native speed) or the RTL NIC")
    p.add_argument("--data-width", type=int, default=512, help="RTL NIC data width")
    p.add_argument("--mtu", type=int, default=1500)
    p.add_argument("--linux-addr", help="configure the kernel's side of the TAP with this address/prefix")
    p.add_argument("--udp-echo", type=int, action="append", help="UDP echo port (repeatable; default 7)")
    p.add_argument("--ping", action="append", default=[], help="Veridian pings this address once up")
    p.add_argument("--ping-count", type=int, default=3)
    p.add_argument("--ping-size", type=int, default=56)
    p.add_argument("--udp-probe", action="append", default=[], metavar="ADDR:PORT:SIZE",
                   help="once up, send SIZE bytes to a UDP echo server at ADDR:PORT and wait for them back")
    p.add_argument("--tcp-probe", action="append", default=[], metavar="ADDR:PORT:SIZE",
                   help="once up, send SIZE bytes to a TCP echo server at ADDR:PORT and check the echo (SHA-256)")
    p.add_argument("--no-tcp", action="store_true", help="no TCP services")
    p.add_argument("--iperf3-port", type=int, default=5201, help="iperf3 server port (0: none)")
    p.add_argument("--addr6", help="also an IPv6 address/prefix for Veridian, e.g. fd00:9::2/64")
    p.add_argument("--linux-addr6", help="and the kernel's side, e.g. fd00:9::1/64")
    p.add_argument("--loss", type=float, default=0.0, help="Veridian's side of the TAP: loss probability, both ways")
    p.add_argument("--reorder", type=float, default=0.0, help="... reordering probability (frames held --delay-us)")
    p.add_argument("--duplicate", type=float, default=0.0, help="... duplication probability")
    p.add_argument("--delay-us", type=float, default=200.0, help="... how long a reordered frame is held")
    p.add_argument("--jitter-us", type=float, default=0.0, help="... uniform extra delay, order kept")
    p.add_argument("--duration", type=float, default=0.0, help="seconds to serve (0: until SIGINT/SIGTERM)")
    return p


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)

    sim = vd.Simulation()
    nic = vd.SoftNic(mtu=a.mtu) if a.nic == "soft" else vd.RtlNic(data_width=a.data_width, mtu=a.mtu)
    host = sim.add_host("veridian", nic=nic)
    try:
        bridge = sim.attach_tap(host, a.tap)
    except OSError as e:
        print(f"veridian.tools.tap: {e}", file=sys.stderr)
        return 2
    _ip("link", "set", a.tap, "mtu", str(a.mtu))
    _ip("link", "set", a.tap, "up")
    if a.linux_addr:
        _ip("addr", "add", a.linux_addr, "dev", a.tap)
    if a.linux_addr6:
        _ip("-6", "addr", "add", a.linux_addr6, "dev", a.tap, "nodad")
    host.add_address(a.addr)
    if a.addr6:
        host.add_address(a.addr6)
    if a.loss or a.reorder or a.duplicate or a.jitter_us:
        # No netem here: the faults are injected on Veridian's side of the bridge.
        f = vd.LinkFaults(loss=a.loss, reorder=a.reorder, duplicate=a.duplicate,
                          reorder_delay_ns=a.delay_us * 1000, jitter_ns=a.jitter_us * 1000)._spec()
        for side in (0, 1):
            bridge.link().set_faults(side, f)
    for r in a.route:
        cidr, _, via = r.partition(",")
        host.add_route(cidr, via or None)
    socks = []
    for port in a.udp_echo or [7]:
        s = host.udp_socket()
        s.bind(("0.0.0.0", port))
        socks.append(s)

    tcp = None if a.no_tcp else TcpServices(host, v6=bool(a.addr6))
    iperf = None
    if not a.no_tcp and a.iperf3_port:
        iperf = Iperf3Server(sim, host, a.iperf3_port, addrs=("0.0.0.0", "::") if a.addr6 else ("0.0.0.0",))
    reported = 0
    stop = False

    def on_signal(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if a.addr6:
        sim.run_for(ms=1200)  # duplicate address detection: the address is tentative for a second
    print(json.dumps({"ready": True, "tap": a.tap, "addr": a.addr, "mac": host.mac, "nic": a.nic}), flush=True)

    for dst in a.ping:
        rtts = host.ping(dst, count=a.ping_count, timeout_ms=2000, size=a.ping_size)
        print(json.dumps({"ping": dst, "size": a.ping_size, "rtt_ns": rtts}), flush=True)

    for probe in a.udp_probe:
        addr, port, size = probe.rsplit(":", 2)
        payload = bytes((i * 31 + 7) & 0xFF for i in range(int(size)))
        s = host.udp_socket()
        s.sendto(payload, (addr, int(port)))
        try:
            data, src = s.recvfrom(timeout_ns=2_000_000_000)
            ok = data == payload
        except TimeoutError:
            data, src, ok = b"", None, False
        s.close()
        print(json.dumps({"udp_probe": probe, "ok": ok, "got": len(data), "from": src}), flush=True)

    for probe in a.tcp_probe:
        print(json.dumps(tcp_probe(sim, host, probe)), flush=True)

    deadline = time.monotonic() + a.duration if a.duration > 0 else None
    echoed = 0
    while not stop and (deadline is None or time.monotonic() < deadline):
        sim.run_for(ms=2)  # paced: at most 2 ms of virtual time per 2 ms of wall time
        if tcp is not None:
            tcp.step()
        if iperf is not None:
            iperf.step()
            for t in iperf.tests[reported:]:
                print(json.dumps({"iperf3": t}), flush=True)
            reported = len(iperf.tests)
        for s in socks:
            while s.pending:
                data, addr = s.recvfrom()
                try:
                    s.sendto(data, addr)
                    echoed += 1
                except OSError as e:  # a full queue or no route: count and go on
                    print(json.dumps({"udp_echo_error": str(e)}), file=sys.stderr, flush=True)
    faults = [bridge.link().fault_stats(s) for s in (0, 1)]
    print(json.dumps({"stats": host.stats(), "tap": bridge.stats(), "udp_echoed": echoed, "faults": faults,
                      "tcp_bytes": tcp.bytes if tcp else {}, "tcp_served": tcp.served if tcp else 0,
                      "iperf3_tests": iperf.tests if iperf else [],
                      "virtual_s": sim.now_ns / 1e9}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
