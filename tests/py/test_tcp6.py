"""TCP over IPv6 end to end over the RTL NIC and SoftNic: byte streams
checked by SHA-256 both directions at once (TSO and checksum offload over
IPv6 on both NICs), the socket family rules, and tshark on the segments."""
import hashlib

import pytest

import veridian as vd
from conftest import NIC_KINDS, make_pair, tshark_fields
from test_tcp import blob, pump

A6, B6 = "2001:db8::1", "2001:db8::2"


def v6_pair(ka, kb, pcap=None):
    sim, a, b, link = make_pair(NIC_KINDS[ka](), NIC_KINDS[kb](), pcap=pcap)
    a.add_address(A6 + "/64")
    b.add_address(B6 + "/64")
    sim.run_for(ms=1500)  # DAD (1 s of virtual time)
    return sim, a, b


def connect6(sim, a, b, port=5001):
    lst = b.tcp_socket()
    lst.bind(("::", port))
    lst.listen()
    assert lst.is_v6
    c = a.tcp_socket()
    c.connect((B6, port))
    s, peer = lst.accept(timeout_ns=1e6)
    assert peer == c.getsockname()
    assert peer[0] == A6
    assert c.getpeername() == (B6, port)
    assert s.getsockname() == (B6, port)
    assert c.is_v6 and s.is_v6
    return c, s


PAIRS = [("rtl512", "soft"), ("soft", "rtl64"), ("rtl512", "rtl512"), ("soft", "soft")]


@pytest.mark.parametrize("ka,kb", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_v6_transfers_both_directions_sha256(ka, kb):
    sim, a, b = v6_pair(ka, kb)
    for size in (1, 1428, 300_000):
        c, s = connect6(sim, a, b, port=5000 + size % 1000)
        # Before the transfer: after both sides close, c may already be gone
        # (LAST-ACK then CLOSED, when B's FIN came first) and report zeros.
        assert c.info()["mss"] == 1500 - 60 - 12  # IPv6 MSS, timestamps on
        up, down = blob(size, 11), blob(size * 2 + 7, 12)
        got_up, got_down = pump(sim, [(c, s, up), (s, c, down)])
        assert hashlib.sha256(got_up).digest() == hashlib.sha256(up).digest()
        assert hashlib.sha256(got_down).digest() == hashlib.sha256(down).digest()
    # TSO over IPv6 on both NICs (the stack hands them 64 KiB sends).
    c, s = connect6(sim, a, b, port=6001)
    for x, y in ((c, s), (s, c)):
        data = blob(200_000, 3)
        x.sendall(data)
        got = bytearray()
        while len(got) < len(data):
            got += y.recv(1 << 20, timeout_ns=1e8)
        assert got == data
        assert x.info()["tso_sends"] > 0
    # No TCP drops, except duplicates after real loss: a 100 Gb/s SoftNic
    # sender can overrun the 64-bit RTL NIC, which counts those drops, and
    # the resent segments may then arrive twice (out of window).
    nic_lost = sum(v for h in (a, b) for k, v in (h.nic.stats() if h.nic.kind == "soft" else h.nic.registers()).items()
                   if "rx_drop" in k)
    for h in (a, b):
        drops = h.stats()["drops"]
        bad = {k: v for k, v in drops.items() if k.startswith("tcp.") and not (nic_lost and k == "tcp.out_of_window")}
        assert not bad, (drops, nic_lost)


def test_v6_family_rules_and_refused():
    sim, a, b = v6_pair("soft", "soft")
    s = a.tcp_socket()
    s.bind(("::", 6000))
    with pytest.raises(OSError) as e:
        s.connect(("10.0.0.2", 80))
    assert e.value.errno == 97  # EAFNOSUPPORT
    s4 = a.tcp_socket()
    s4.bind(("0.0.0.0", 6000))  # IPv6 ports are their own namespace
    assert not s4.is_v6
    c = a.tcp_socket()
    with pytest.raises(ConnectionRefusedError):
        c.connect((B6, 81))
    assert b.stats()["events"]["tcp.rst_sent"] == 1


def test_v6_segments_pass_tshark(tmp_path):
    pcap = tmp_path / "tcp6.pcap"
    sim, a, b = v6_pair("rtl512", "soft", pcap=pcap)
    c, s = connect6(sim, a, b)
    data = blob(600_000, 5)
    got_up, got_down = pump(sim, [(c, s, data), (s, c, data[:50_000])])
    assert got_up == data and got_down == data[:50_000]
    sim.run_for(ms=1)
    sim.flush()
    rows = tshark_fields(pcap, "tcp.checksum.status", "ipv6.nxt", "tcp.len", "_ws.malformed",
                         "tcp.analysis.flags", extra=["-o", "tcp.check_checksum:TRUE", "-Y", "tcp"])
    assert len(rows) > 400
    for tck, nxt, tlen, malformed, flags in rows:
        assert tck == "1" and nxt == "6" and malformed == "", (tck, nxt, tlen, malformed, flags)
    # Every data segment on the wire respects the IPv6 MSS (TSO cut them).
    assert max(int(r[2]) for r in rows) == 1428
