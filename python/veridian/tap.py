"""A Veridian host on a Linux TAP device, in real time, for people and tests.

    python -m veridian.tap --tap vd0 --addr 10.9.0.2/24 --linux-addr 10.9.0.1/24

The host answers ICMP echo (its stack does that itself) and runs a UDP echo
service (port 7 unless --udp-echo says otherwise). --ping makes Veridian ping
a Linux address once the TAP is up. One JSON object per line goes to stdout:
{"ready": ...} once serving, {"ping": ...} per --ping, {"stats": ...} at the
end (after --duration seconds, or on SIGINT/SIGTERM). TCP services (echo,
discard, HTTP) come with the TCP issue: the stack has no TCP yet.

Run it inside a network namespace you made (`ip netns exec NS ...`): the TAP
and the kernel's side of it then live there and no traffic leaves it.
"""
from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time

import veridian as vd


def _ip(*args: str) -> None:
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"veridian.tap: 'ip {' '.join(args)}' failed: {r.stderr.strip()}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m veridian.tap", description=__doc__.split("\n\n")[0])
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
    p.add_argument("--duration", type=float, default=0.0, help="seconds to serve (0: until SIGINT/SIGTERM)")
    a = p.parse_args(argv)

    sim = vd.Simulation()
    nic = vd.SoftNic(mtu=a.mtu) if a.nic == "soft" else vd.RtlNic(data_width=a.data_width, mtu=a.mtu)
    host = sim.add_host("veridian", nic=nic)
    try:
        bridge = sim.attach_tap(host, a.tap)
    except OSError as e:
        print(f"veridian.tap: {e}", file=sys.stderr)
        return 2
    _ip("link", "set", a.tap, "mtu", str(a.mtu))
    _ip("link", "set", a.tap, "up")
    if a.linux_addr:
        _ip("addr", "add", a.linux_addr, "dev", a.tap)
    host.add_address(a.addr)
    for r in a.route:
        cidr, _, via = r.partition(",")
        host.add_route(cidr, via or None)
    socks = []
    for port in a.udp_echo or [7]:
        s = host.udp_socket()
        s.bind(("0.0.0.0", port))
        socks.append(s)

    stop = False

    def on_signal(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
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

    deadline = time.monotonic() + a.duration if a.duration > 0 else None
    echoed = 0
    while not stop and (deadline is None or time.monotonic() < deadline):
        sim.run_for(ms=10)  # paced: at most 10 ms of virtual time per 10 ms of wall time
        for s in socks:
            while s.pending:
                data, addr = s.recvfrom()
                try:
                    s.sendto(data, addr)
                    echoed += 1
                except OSError as e:  # a full queue or no route: count and go on
                    print(json.dumps({"udp_echo_error": str(e)}), file=sys.stderr, flush=True)
    print(json.dumps({"stats": host.stats(), "tap": bridge.stats(), "udp_echoed": echoed,
                      "virtual_s": sim.now_ns / 1e9}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
