"""The rest of the socket API from Python: raw IP sockets (v4 and v6),
local (Unix-domain style) sockets, SO_REUSEADDR, and settimeout() in
simulated seconds on every kind of socket."""
import errno
import socket
import struct

import pytest

import veridian as vd
from conftest import make_pair


def pair():
    return make_pair(vd.SoftNic(), vd.SoftNic())


# ------------------------------------------------------------ raw sockets

def test_raw_v4_icmp_copy_has_the_ip_header():
    sim, a, b, _ = pair()
    with b.raw_socket(socket.IPPROTO_ICMP) as raw:
        rtts = a.ping("10.0.0.2", count=1)
        assert len(rtts) == 1  # the stack still answers
        data, (src, port) = raw.recvfrom(timeout_ns=0)
        assert (src, port) == ("10.0.0.1", 0)
        assert data[0] >> 4 == 4 and data[9] == socket.IPPROTO_ICMP
        hlen = (data[0] & 0x0F) * 4
        assert data[hlen] == 8  # echo request
        assert struct.unpack("!H", data[2:4])[0] == len(data)


def test_raw_custom_protocol_v4_both_ways_without_protocol_unreachable():
    sim, a, b, _ = pair()
    ra, rb = a.raw_socket(253), b.raw_socket(253, family=4)
    assert ra.family == 4 and ra.proto == 253
    ra.sendto(b"hello raw world", "10.0.0.2")
    data, (src, _) = rb.recvfrom(timeout_ns=1e6)
    assert src == "10.0.0.1"
    assert data[9] == 253 and data[20:] == b"hello raw world"
    rb.sendto(b"back", ("10.0.0.1", 0))
    assert ra.recvfrom(timeout_ns=1e6)[0][20:] == b"back"
    assert b.stats()["drops"].get("ipv4.unknown_protocol", 0) == 0
    assert a.icmp_errors() == []
    # Without the raw socket b refuses the protocol.
    rb.close()
    ra.sendto(b"nobody listens here", "10.0.0.2")
    sim.run_for(us=100)
    assert b.stats()["drops"].get("ipv4.unknown_protocol", 0) == 1


def test_raw_custom_protocol_v6_payload_only():
    sim, a, b, _ = pair()
    a.enable_ipv6()
    b.enable_ipv6()
    a.add_address("2001:db8::a/64")
    b.add_address("2001:db8::b/64")
    sim.run_for(ms=2000)  # DAD
    ra, rb = a.raw_socket(253, family=6), b.raw_socket(253, family=6)
    big = bytes(range(256)) * 12  # fragmented
    ra.sendto(big, "2001:db8::b")
    data, (src, _) = rb.recvfrom(timeout_ns=1e6)
    assert data == big and src == "2001:db8::a"
    with pytest.raises(OSError) as e:
        ra.sendto(b"x", "10.0.0.2")
    assert e.value.errno == errno.EAFNOSUPPORT


def test_raw_queue_limit_drops_are_counted():
    sim, a, b, _ = pair()
    ra, rb = a.raw_socket(253), b.raw_socket(253)
    rb.set_rx_queue_limit(2)
    for _ in range(5):
        ra.sendto(b"d", "10.0.0.2")
    sim.run_for(us=100)
    assert rb.pending == 2
    assert b.stats()["drops"]["raw.rx_queue_full"] == 3


# ------------------------------------------------------------ local sockets

def test_local_stream_echo_and_eof():
    sim, a, _, _ = pair()
    with a.local_socket("stream") as lst, a.local_socket() as cli:
        lst.bind("/run/echo")
        lst.listen()
        cli.connect("/run/echo")
        srv, peer = lst.accept(timeout_ns=0)
        assert peer == "" and cli.getpeername() == "/run/echo"
        assert cli.send(b"ping") == 4
        assert srv.recv(100) == b"ping"
        srv.sendall(b"pong")
        assert cli.recv(100) == b"pong"
        cli.shutdown()
        assert srv.recv(100) == b""
        assert srv.eof
        with pytest.raises(BrokenPipeError):
            cli.send(b"more")
        srv.close()


def test_local_errors():
    sim, a, b, _ = pair()
    c = a.local_socket("stream")
    with pytest.raises(ConnectionRefusedError):
        c.connect("/nothing")
    with pytest.raises(OSError) as e:
        c.recv(10)
    assert e.value.errno == errno.ENOTCONN
    d = a.local_socket("dgram")
    with pytest.raises(ConnectionRefusedError):
        d.sendto(b"x", "/nothing")
    d.bind("/d")
    with pytest.raises(OSError) as e:
        a.local_socket("dgram").bind("/d")
    assert e.value.errno == errno.EADDRINUSE
    # Another host has its own names.
    with pytest.raises(ConnectionRefusedError):
        b.local_socket("dgram").sendto(b"x", "/d")
    with pytest.raises(ValueError):
        a.local_socket("seqpacket")


def test_local_stream_buffer_limit_would_block():
    sim, a, _, _ = pair()
    lst = a.local_socket()
    lst.set_rcvbuf(4096)
    lst.bind("s")
    lst.listen()
    cli = a.local_socket()
    cli.connect("s")
    srv, _ = lst.accept()
    assert cli.send(b"x" * 10000) == 4096
    assert cli.send(b"y") == 0  # would block
    assert len(srv.recv(1000)) == 1000
    assert cli.send(b"y" * 5000) == 1000


def test_local_datagrams():
    sim, a, _, _ = pair()
    x, y = a.local_socket("dgram"), a.local_socket("dgram")
    x.bind("/x")
    y.bind("/y")
    x.sendto(b"one", "/y")
    assert y.recvfrom() == (b"one", "/x")
    y.connect("/x")
    assert y.send(b"two") == 3
    assert x.recv(2) == b"tw"


# ------------------------------------------------------------ options

def test_udp_reuse_addr():
    sim, a, b, _ = pair()
    s1, s2 = b.udp_socket(), b.udp_socket()
    s1.reuse_addr = True
    s2.reuse_addr = True
    s1.bind(("0.0.0.0", 6000))
    s2.bind(("0.0.0.0", 6000))
    s3 = b.udp_socket()
    with pytest.raises(OSError) as e:
        s3.bind(("0.0.0.0", 6000))
    assert e.value.errno == errno.EADDRINUSE
    a.udp_socket().sendto(b"to the newest", ("10.0.0.2", 6000))
    assert s2.recvfrom(timeout_ns=1e6)[0] == b"to the newest"


# ------------------------------------------------------------ settimeout (simulated seconds)

@pytest.mark.parametrize("kind", ["udp", "tcp", "raw", "local_stream", "local_dgram"])
def test_settimeout_runs_simulated_time_then_raises(kind):
    sim, a, b, _ = pair()
    if kind == "udp":
        s = b.udp_socket()
        s.bind(("0.0.0.0", 7000))
        call = lambda: s.recvfrom()
    elif kind == "tcp":
        lst = b.tcp_socket()
        lst.bind(("0.0.0.0", 80))
        lst.listen()
        c = a.tcp_socket()
        c.connect(("10.0.0.2", 80))
        s, _ = lst.accept(timeout_ns=1e6)
        call = lambda: s.recv(10)
    elif kind == "raw":
        s = b.raw_socket(253)
        call = lambda: s.recvfrom()
    elif kind == "local_stream":
        lst = b.local_socket()
        lst.bind("/srv")
        lst.listen()
        c = b.local_socket()
        c.connect("/srv")
        s, _ = lst.accept()
        call = lambda: s.recv(10)
    else:
        s = b.local_socket("dgram")
        s.bind("/d")
        call = lambda: s.recvfrom()
    assert s.gettimeout() == 0.0
    with pytest.raises(BlockingIOError):
        call()
    s.settimeout(0.25)
    assert s.gettimeout() == 0.25
    sim.run_for(ms=1)  # let the handshake's last ACKs settle
    t0 = sim.now_ps
    with pytest.raises(socket.timeout):  # TimeoutError
        call()
    assert sim.now_ps - t0 == 250_000_000_000  # 0.25 s of simulated time
    with pytest.raises(ValueError):
        s.settimeout(-1)


def test_settimeout_returns_early_when_data_arrives():
    sim, a, b, _ = pair()
    rx = b.udp_socket()
    rx.bind(("0.0.0.0", 7000))
    rx.settimeout(2.0)
    a.udp_socket().sendto(b"soon", ("10.0.0.2", 7000))
    t0 = sim.now_ps
    data, (ip, _) = rx.recvfrom()
    assert data == b"soon" and ip == "10.0.0.1"
    assert sim.now_ps - t0 < 1_000_000_000  # well under a millisecond, not 2 s
    rx.setblocking(False)
    assert rx.gettimeout() == 0.0


def test_ipv6_v6only_is_always_on():
    import errno
    sim, a, b, _ = make_pair(vd.SoftNic(), vd.SoftNic())
    for s in (a.tcp_socket(), a.udp_socket()):
        assert s.v6only is True
        s.v6only = True
        with pytest.raises(OSError) as e:
            s.v6only = False
        assert e.value.errno == errno.EOPNOTSUPP and "dual-stack" in str(e.value)
