"""Link fault injection through the Python API, with real hosts: every frame
is accounted for by the link's fault counters and the hosts' own counters."""
import struct

import pytest

import veridian as vd
from conftest import NIC_KINDS, make_pair

PAIRS = [("rtl512", "soft"), ("soft", "rtl64"), ("soft", "soft")]


def read_pcap(path):
    """[(time_ns, bytes)] of a nanosecond pcap."""
    data = open(path, "rb").read()
    assert struct.unpack_from("<I", data, 0)[0] == 0xA1B23C4D
    out, off = [], 24
    while off < len(data):
        sec, nsec, cap, _ = struct.unpack_from("<IIII", data, off)
        out.append((sec * 10**9 + nsec, data[off + 16:off + 16 + cap]))
        off += 16 + cap
    return out


def balanced(st):
    return st["sent"] + st["duplicated"] == st["delivered"] + st["dropped"] + st["queue_drops"]


@pytest.mark.parametrize("ka,kb", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_ping_under_loss_every_lost_echo_is_a_dropped_frame(ka, kb):
    sim, a, b, link = make_pair(NIC_KINDS[ka](), NIC_KINDS[kb](), seed=11)
    assert a.ping("10.0.0.2") != [None]          # ARP resolved on a perfect wire
    link.set_faults("both", vd.LinkFaults(loss=0.1))
    before = [link.fault_stats(d) for d in (0, 1)]
    icmp_b0 = b.stats()["layers"]["icmp"]["rx_packets"]
    rtts = a.ping("10.0.0.2", count=300, timeout_ms=0.1)
    sim.run_for(us=50)
    st = [link.fault_stats(d) for d in (0, 1)]
    req = {k: st[0][k] - before[0][k] for k in st[0]}
    rep = {k: st[1][k] - before[1][k] for k in st[1]}
    lost = rtts.count(None)
    assert req["sent"] == 300
    assert req["delivered"] + req["dropped"] == 300
    assert b.stats()["layers"]["icmp"]["rx_packets"] - icmp_b0 == req["delivered"]
    assert rep["sent"] == req["delivered"]          # b answered every request it got
    assert 300 - lost == rep["delivered"]           # and a saw every reply that arrived
    assert lost == req["dropped"] + rep["dropped"]  # nothing else went missing
    # binomial(300, 0.1) per direction: mean 30, sd ~5.2
    assert 5 <= req["dropped"] <= 60 and 5 <= rep["dropped"] <= 60
    assert balanced(st[0]) and balanced(st[1])
    # The plain link counters saw the same frames the fault counters did.
    s = link.stats()
    assert s["a->b"]["frames"] == st[0]["sent"] and s["b->a"]["frames"] == st[1]["sent"]


@pytest.mark.parametrize("ka,kb", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_udp_under_loss_duplication_and_reordering(ka, kb):
    sim, a, b, link = make_pair(NIC_KINDS[ka](), NIC_KINDS[kb](), seed=5)
    a.ping("10.0.0.2")
    srv = b.udp_socket()
    srv.bind(("10.0.0.2", 7000))
    cli = a.udp_socket()
    before = link.fault_stats(a)  # ARP request and echo request
    link.set_faults(a, loss=0.05, duplicate=0.05, reorder=0.1, reorder_delay_ns=20_000, jitter_ns=200)
    n = 1000
    for i in range(n):
        cli.sendto(struct.pack("<I", i) + bytes(200), ("10.0.0.2", 7000))
        sim.run_for(us=2)
    sim.run_for(us=100)
    got = []
    while srv.pending:
        got.append(struct.unpack_from("<I", srv.recvfrom()[0])[0])
    st = link.fault_stats(a)
    assert balanced(st)
    st = {k: v - before[k] for k, v in st.items()}
    assert st["sent"] == n
    assert len(got) == st["delivered"]                   # every delivered frame reached the socket
    assert len(set(got)) == n - st["dropped"]            # every surviving datagram at least once
    assert len(got) - len(set(got)) == st["duplicated"]  # and the copies twice
    assert got != sorted(got)                            # held-back frames were overtaken
    assert st["reordered"] > 50 and st["duplicated"] > 20 and st["dropped"] > 20
    assert st["delayed"] > 0
    assert b.stats()["drops"] == {}
    assert link.fault_stats(b)["dropped"] == 0           # the other direction was left alone


@pytest.mark.parametrize("kb", ["rtl64", "soft"])
def test_corruption_with_bad_fcs_is_dropped_by_the_nic(kb):
    sim, a, b, link = make_pair(NIC_KINDS["soft"](), NIC_KINDS[kb](), seed=2)
    a.ping("10.0.0.2")
    link.set_faults(0, corrupt=1.0, corrupt_bits=2)
    assert a.ping("10.0.0.2", count=10, timeout_ms=0.1) == [None] * 10
    st = link.fault_stats(0)
    assert st["corrupted"] == 10 and st["bits_flipped"] == 20
    if kb == "soft":
        assert b.nic.stats()["rx_drop_error"] == 10
    else:
        assert b.nic.registers()["nic_rx_drop_error"] == 10
    link.set_faults(0)  # cleared: back to a perfect wire
    assert None not in a.ping("10.0.0.2", count=3)


@pytest.mark.parametrize("kb", ["rtl512", "soft"])
def test_corruption_with_recomputed_fcs_is_caught_by_ip_and_udp_checksums(kb):
    sim, a, b, link = make_pair(NIC_KINDS["soft"](), NIC_KINDS[kb](), seed=4)
    a.ping("10.0.0.2")
    srv = b.udp_socket()
    srv.bind(("10.0.0.2", 9))
    cli = a.udp_socket()
    link.set_faults(0, corrupt=0.5, corrupt_keep_fcs=True, corrupt_from=14)
    payload = bytes(range(200))
    for _ in range(300):
        cli.sendto(payload, ("10.0.0.2", 9))
        sim.run_for(us=3)
    st = link.fault_stats(0)
    assert 100 < st["corrupted"] < 200
    assert srv.pending == 300 - st["corrupted"]
    while srv.pending:
        assert srv.recvfrom()[0] == payload  # nothing damaged got through
    drops = b.stats()["drops"]
    assert sum(drops.values()) == st["corrupted"], drops
    assert set(drops) <= {"ipv4.bad_checksum", "ipv4.bad_ihl", "ipv4.bad_length", "ipv4.bad_version",
                          "udp.bad_checksum", "udp.bad_length", "ipv4.not_for_us", "ipv4.bad_header"}, drops


def run_faulty(seed, path, nic_b="rtl64"):
    sim, a, b, link = make_pair(NIC_KINDS["soft"](), NIC_KINDS[nic_b](), seed=seed)
    sim.capture(link, str(path), delivered=True)
    a.ping("10.0.0.2")
    link.set_faults("both", vd.LinkFaults(loss=0.1, duplicate=0.05, reorder=0.05, corrupt=0.05, jitter_ns=300))
    rtts = a.ping("10.0.0.2", count=100, timeout_ms=0.05)
    sim.flush()
    return rtts, open(path, "rb").read(), link.fault_stats(0), link.fault_stats(1)


def test_same_seed_same_faults_other_seed_other_faults(tmp_path):
    r1 = run_faulty(7, tmp_path / "1.pcap")
    r2 = run_faulty(7, tmp_path / "2.pcap")
    r3 = run_faulty(8, tmp_path / "3.pcap")
    assert r1 == r2
    assert r1[1] != r3[1] and r1[0] != r3[0]


def test_sent_and_delivered_captures(tmp_path):
    sim = vd.Simulation(seed=3)
    a, b = sim.add_host("a"), sim.add_host("b")
    link = sim.connect(a, b)
    sim.capture(link, str(tmp_path / "sent.pcap"))   # before any frame (gratuitous ARP) is sent
    sim.capture(link, str(tmp_path / "got.pcap"), delivered=True)
    a.add_address("10.0.0.1/24")
    b.add_address("10.0.0.2/24")
    a.ping("10.0.0.2")
    link.set_faults(0, loss=0.3, duplicate=0.2)
    a.ping("10.0.0.2", count=50, timeout_ms=0.1)
    sim.run_for(us=10)
    sim.flush()
    sent, got = read_pcap(tmp_path / "sent.pcap"), read_pcap(tmp_path / "got.pcap")
    s0, s1 = link.fault_stats(0), link.fault_stats(1)
    assert len(sent) == s0["sent"] + s1["sent"]
    assert len(got) == s0["delivered"] + s1["delivered"]
    assert [t for t, _ in got] == sorted(t for t, _ in got)
    # Every delivered frame was sent, byte for byte (no corruption here).
    sent_bytes = {f for _, f in sent}
    assert all(f in sent_bytes for _, f in got)


def test_bandwidth_cap_spaces_frames_in_virtual_time(tmp_path):
    sim, a, b, link = make_pair(NIC_KINDS["rtl512"](), NIC_KINDS["soft"](), seed=1, rate_gbps=100)
    sim.capture(link, str(tmp_path / "got.pcap"), delivered=True)
    a.ping("10.0.0.2")
    link.set_faults(a, cap_gbps=1.0)
    srv = b.udp_socket()
    srv.bind(("10.0.0.2", 7000))
    cli = a.udp_socket()
    for i in range(20):
        cli.sendto(bytes([i]) * 1400, ("10.0.0.2", 7000))   # all at once: the NIC sends at 100 Gb/s
    sim.run_for(us=400)
    assert srv.pending == 20
    sim.flush()
    udp = [t for t, f in read_pcap(tmp_path / "got.pcap") if len(f) == 1442]
    assert len(udp) == 20
    gap = (1442 + 24) * 8  # ns at 1 Gb/s
    for x, y in zip(udp, udp[1:]):
        assert y - x == pytest.approx(gap, abs=1)
    assert link.fault_stats(a)["delayed"] >= 20


def test_bandwidth_cap_queue_tail_drops():
    sim, a, b, link = make_pair(NIC_KINDS["soft"](), NIC_KINDS["soft"](), seed=1)
    a.ping("10.0.0.2")
    link.set_faults(0, cap_gbps=1.0, cap_queue=4)
    srv = b.udp_socket()
    srv.bind(("10.0.0.2", 7000))
    cli = a.udp_socket()
    for i in range(30):
        cli.sendto(bytes(1000), ("10.0.0.2", 7000))
    sim.run_for(us=500)
    st = link.fault_stats(0)
    assert srv.pending == 5 and st["queue_drops"] == 25 and balanced(st)


def test_fault_arguments_are_checked():
    sim, a, b, link = make_pair(NIC_KINDS["soft"](), NIC_KINDS["soft"]())
    with pytest.raises(ValueError):
        link.set_faults(0, loss=1.5)
    with pytest.raises(ValueError):
        vd.LinkFaults(duplicate=-0.1)._spec()
    with pytest.raises(ValueError):
        link.set_faults(2, loss=0.1)
    with pytest.raises(ValueError):
        link.set_faults("nobody", loss=0.1)
    with pytest.raises(TypeError):
        link.set_faults(0, vd.LinkFaults(), loss=0.1)
    with pytest.raises(TypeError):
        link.set_faults(0, bogus=1)
    with pytest.raises(ValueError):
        link.fault_stats("both")
    with pytest.raises(TypeError):
        sim.add_host("c")
        sim.connect(sim.hosts["c"], "b")
    link.set_faults("a", loss=0.25, jitter_ns=100)
    assert link.faults(0) == vd.LinkFaults(loss=0.25, jitter_ns=100)
    assert link.faults(b) == vd.LinkFaults()


def test_connect_with_faults_per_direction():
    sim = vd.Simulation(seed=9)
    a, b = sim.add_host("a"), sim.add_host("b")
    link = sim.connect(a, b, faults=(vd.LinkFaults(loss=1.0), None))
    a.add_address("10.0.0.1/24")
    b.add_address("10.0.0.2/24")
    assert a.ping("10.0.0.2", timeout_ms=1) == [None]
    assert link.fault_stats(0)["dropped"] >= 1 and link.fault_stats(0)["delivered"] == 0
    # b heard nothing, so it answered nothing (it may announce itself by ARP)
    icmp = b.stats()["layers"]["icmp"]
    assert icmp["rx_packets"] == 0 and icmp["tx_packets"] == 0
    assert link.faults(1) == vd.LinkFaults()


@pytest.mark.parametrize("ka,kb", [("rtl512", "soft"), ("soft", "soft")], ids=["rtl512-soft", "soft-soft"])
def test_tcp_transfer_survives_loss_duplication_reordering_and_corruption(ka, kb):
    sim, a, b, link = make_pair(NIC_KINDS[ka](), NIC_KINDS[kb](), seed=13)
    a.ping("10.0.0.2")
    link.set_faults("both", vd.LinkFaults(loss=0.02, duplicate=0.01, reorder=0.02, reorder_delay_ns=20_000,
                                          corrupt=0.01, jitter_ns=500))
    srv = b.tcp_socket()
    srv.bind(("10.0.0.2", 5001))
    srv.listen()
    cli = a.tcp_socket()
    cli.connect(("10.0.0.2", 5001), timeout_ns=1e9)
    conn, _ = srv.accept(timeout_ns=1e9)
    data = bytes((i * 7) & 0xFF for i in range(200_000))
    cli.sendall(data, timeout_ns=30e9)
    cli.shutdown("write")
    assert conn.recv_all(timeout_ns=30e9) == data
    f = link.fault_stats(a)
    assert f["dropped"] > 0 and f["reordered"] > 0 and f["corrupted"] > 0
    assert cli.info()["retransmits"] > 0
