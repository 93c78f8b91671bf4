"""Topologies beyond one cable: hosts on a learning switch, hosts with
several NICs, switches in a row, faults on switch links."""
import socket
import struct

import pytest

import veridian as vd
from conftest import NIC_KINDS


def lan(kinds, seed=1, **sw):
    sim = vd.Simulation(seed=seed)
    s = sim.add_switch("sw", ports=max(4, len(kinds)), **sw)
    hosts, links = [], []
    for i, k in enumerate(kinds):
        h = sim.add_host(f"h{i}", nic=NIC_KINDS[k]())
        h.add_address(f"10.0.0.{i + 1}/24")
        links.append(sim.connect(h, s))
        hosts.append(h)
    return sim, s, hosts, links


def test_three_hosts_on_a_switch_ping_each_other():
    sim, sw, hosts, links = lan(["rtl512", "soft", "rtl64"])
    for i, h in enumerate(hosts):
        for j in range(3):
            if i != j:
                rtts = h.ping(f"10.0.0.{j + 1}", count=2, timeout_ms=1)
                assert None not in rtts, (i, j, rtts)
                assert min(rtts) > 4 * 500  # two cables each way
    table = {e["mac"]: e["port"] for e in sw.mac_table()}
    assert table == {h.mac: i for i, h in enumerate(hosts)}
    assert sw.lookup(hosts[2].mac) == 2
    st = sw.stats()
    assert st["forwarded"] > 0 and st["flooded"] >= 3 and st["fcs_drops"] == 0 and st["learned"] == 3
    # Unicast echoes went only where they were addressed: h1 saw no echo
    # requests meant for h2 (the switch filtered them).
    assert hosts[1].stats()["layers"]["icmp"]["rx_packets"] == 2 * 2 + 2 * 2  # requests to it + replies to it
    assert sw.port_stats(0)["rx_frames"] == links[0].stats()["h0->sw"]["frames"]
    assert sw.port_stats(0)["tx_frames"] == links[0].stats()["sw->h0"]["frames"]


def test_udp_between_switched_hosts_and_broadcast_reaches_all():
    sim, sw, hosts, _ = lan(["soft", "soft", "rtl64", "soft"])
    socks = []
    for i, h in enumerate(hosts):
        s = h.udp_socket()
        s.bind(("0.0.0.0", 5000))
        socks.append(s)
    hosts[0].ping("10.0.0.2")
    socks[0].sendto(b"to-all", ("10.0.0.255", 5000))
    sim.run_for(us=50)
    for s in socks[1:]:
        assert s.recvfrom()[0] == b"to-all"
    socks[3].sendto(b"to-h2", ("10.0.0.3", 5000))
    assert socks[2].recvfrom(timeout_ns=1_000_000)[0] == b"to-h2"


def test_switch_entries_age_out_on_simulated_time():
    sim, sw, hosts, _ = lan(["soft", "soft"], ageing_s=0.001)
    assert None not in hosts[0].ping("10.0.0.2")
    assert len(sw.mac_table()) == 2
    sim.run_for(us=500)
    assert len(sw.mac_table()) == 2
    sim.run_for(us=600)
    assert sw.mac_table() == []
    assert sw.stats()["aged_out"] == 2
    before = sw.stats()["flooded"]
    assert None not in hosts[0].ping("10.0.0.2")   # ARP still cached in the hosts
    assert sw.stats()["flooded"] == before + 1     # the first echo to a forgotten MAC is flooded


def ipv4_addrs(path):
    """(src, dst) of every IPv4 frame in a pcap."""
    data, off, out = open(path, "rb").read(), 24, []
    while off < len(data):
        cap = struct.unpack_from("<I", data, off + 8)[0]
        f = data[off + 16:off + 16 + cap]
        if f[12:14] == b"\x08\x00":
            out.append((socket.inet_ntoa(f[26:30]), socket.inet_ntoa(f[30:34])))
        off += 16 + cap
    return out


def test_host_with_two_nics_reaches_peers_on_two_subnets(tmp_path):
    sim = vd.Simulation(seed=1)
    r = sim.add_host("r", nic=vd.RtlNic(data_width=64))
    assert r.add_nic(vd.SoftNic()) == 2          # lo is ifindex 0, the first NIC 1
    assert len(r.nics) == 2 and r.nics[1].kind == "soft" and r.nic.kind == "rtl"
    assert r.nics[0].mac == r.mac and r.nics[1].mac != r.mac
    assert [v.ifindex for v in r.nics] == [1, 2]
    p = sim.add_host("p", nic=vd.SoftNic())
    q = sim.add_host("q", nic=vd.RtlNic(data_width=512))
    r.add_address("10.0.1.1/24")
    r.add_address("10.0.2.1/24", ifindex=2)
    p.add_address("10.0.1.2/24")
    q.add_address("10.0.2.2/24")
    l1 = sim.connect(r, p, a_nic=1)
    l2 = sim.connect(q, r, b_nic=2)
    sim.capture(l1, str(tmp_path / "l1.pcap"))
    sim.capture(l2, str(tmp_path / "l2.pcap"))
    assert None not in r.ping("10.0.1.2", count=3)
    assert None not in r.ping("10.0.2.2", count=3)
    assert None not in q.ping("10.0.2.1", count=2)
    # UDP both ways on each subnet
    sp, sq = p.udp_socket(), q.udp_socket()
    sp.bind(("10.0.1.2", 9))
    sq.bind(("10.0.2.2", 9))
    c = r.udp_socket()
    c.sendto(b"p", ("10.0.1.2", 9))
    c.sendto(b"q", ("10.0.2.2", 9))
    assert sp.recvfrom(timeout_ns=100_000)[0] == b"p"
    assert sq.recvfrom(timeout_ns=100_000)[0] == b"q"
    # Each subnet's traffic used its own NIC and cable.
    sim.flush()
    for path, net in ((tmp_path / "l1.pcap", "10.0.1."), (tmp_path / "l2.pcap", "10.0.2.")):
        ips = ipv4_addrs(path)
        assert len(ips) >= 5 and all(a.startswith(net) and b.startswith(net) for a, b in ips), (net, ips)
    assert l1.stats()["r->p"]["frames"] >= 1 + 3 + 1            # ARP, 3 echo requests, 1 datagram
    assert l2.stats()["r->q"]["frames"] >= 1 + 3 + 2 + 1        # ARP, 3 requests, 2 replies, 1 datagram
    assert r.nics[1].stats()["tx_packets"] == l2.stats()["r->q"]["frames"]
    assert r.nics[0].stats()["tx_packets"] == l1.stats()["r->p"]["frames"]
    rs = sim.run_stats()
    assert set(rs) == {"r", "q"}                 # r's second NIC is a SoftNic
    assert rs["r"]["cycles_evaluated"] > 0
    # p's subnet is not reachable from q (q has no route there).
    with pytest.raises(OSError):
        q.ping("10.0.1.2", timeout_ms=0.1)


def test_nic_and_port_arguments_are_checked():
    sim = vd.Simulation()
    a, b = sim.add_host("a"), sim.add_host("b")
    sw = sim.add_switch("s", ports=2)
    with pytest.raises(IndexError):
        sim.connect(a, b, a_nic=2)
    with pytest.raises(IndexError):
        sim.connect(a, sw, b_nic=2)
    with pytest.raises(IndexError):
        a.nics[0]._h.mac_at(3)
    with pytest.raises(ValueError):
        a.add_address("10.0.0.1/24", ifindex=2)  # no such interface
    with pytest.raises(IndexError):
        a.inject(b"x" * 60, ifindex=0)             # lo is not a NIC
    with pytest.raises(ValueError):
        sim.add_switch("a")                       # a host has that name
    with pytest.raises(ValueError):
        sim.add_switch("t", ports=0)
    with pytest.raises(TypeError):
        a.add_nic("soft")
    sim.connect(a, sw, b_nic=1)
    with pytest.raises(RuntimeError):
        sim.connect(b, sw, b_nic=1)               # port 1 taken
    sim.connect(b, sw)                            # lowest free: port 0
    assert sw.cabled(0) and sw.cabled(1)
    c = sim.add_host("c")
    with pytest.raises(RuntimeError):
        sim.connect(c, sw)                        # no free port
    with pytest.raises(RuntimeError):
        sim.connect(a, c)                         # a's NIC 0 is cabled
    assert a.add_nic(vd.RtlNic(data_width=64)) == 2
    sim.connect(a, c, a_nic=2)
    assert "a/nic1" in sim.run_stats()


def test_two_switches_and_faults_on_a_switch_link():
    sim = vd.Simulation(seed=21)
    s1, s2 = sim.add_switch(ports=3), sim.add_switch(ports=3)
    assert (s1.name, s2.name) == ("sw0", "sw1")
    trunk = sim.connect(s1, s2, a_nic=2, b_nic=2, faults=(vd.LinkFaults(jitter_ns=100), None))
    hosts = []
    for i, (sw, kind) in enumerate([(s1, "soft"), (s1, "rtl64"), (s2, "soft"), (s2, "rtl512")]):
        h = sim.add_host(f"h{i}", nic=NIC_KINDS[kind]())
        h.add_address(f"10.0.0.{i + 1}/24")
        sim.connect(h, sw)
        hosts.append(h)
    # Same-switch pairs never cross the lossy trunk.
    assert None not in hosts[0].ping("10.0.0.2", count=20, timeout_ms=0.5)
    t0 = trunk.fault_stats(s1)["sent"]
    assert None not in hosts[2].ping("10.0.0.4", count=20, timeout_ms=0.5)
    # Flooded ARP requests do cross it.
    assert trunk.fault_stats(s1)["sent"] >= t0
    # Across the trunk (ARP resolved first: a lost ARP request would hold the
    # echoes in the ARP queue for its 1 s retry): losses, every one accounted for.
    assert None not in hosts[0].ping("10.0.0.3")
    trunk.set_faults("both", loss=0.2)
    rtts = hosts[0].ping("10.0.0.3", count=100, timeout_ms=0.5)
    sim.run_for(us=100)
    assert rtts.count(None) > 0
    f01, f10 = trunk.fault_stats(s1), trunk.fault_stats(s2)
    for st in (f01, f10):
        assert st["sent"] + st["duplicated"] == st["delivered"] + st["dropped"] + st["queue_drops"]
    assert trunk.stats()["sw0->sw1"]["frames"] == f01["sent"]
    assert s2.port_stats(2)["rx_frames"] == f01["delivered"]
    assert s1.port_stats(2)["rx_frames"] == f10["delivered"]


def test_switched_runs_repeat_bit_for_bit(tmp_path):
    def run(path):
        sim, sw, hosts, links = lan(["soft", "rtl64", "soft"], seed=3)
        for l in links:
            l.set_faults("both", loss=0.05, jitter_ns=200)
        sim.capture(links[1], str(path), delivered=True)
        out = [hosts[i].ping(f"10.0.0.{(i + 1) % 3 + 1}", count=30, timeout_ms=0.2) for i in range(3)]
        sim.flush()
        return out, open(path, "rb").read(), sw.stats()
    assert run(tmp_path / "a.pcap") == run(tmp_path / "b.pcap")


def test_router_with_two_nics_between_a_switched_subnet_and_a_cabled_one():
    """The IP layer's router set-up: r (RtlNic + SoftNic) forwards between
    10.0.1.0/24 (a switch with two hosts) and 10.0.2.0/24 (one cable, lossy)."""
    sim = vd.Simulation(seed=17)
    sw = sim.add_switch("lan", ports=4)
    r = sim.add_host("r", nic=vd.RtlNic(data_width=64))
    wan = r.add_nic(vd.SoftNic())
    r.add_address("10.0.1.1/24")
    r.add_address("10.0.2.1/24", ifindex=wan)
    r.set_forwarding(True)
    sim.connect(r, sw)
    hosts = []
    for i, kind in enumerate(["soft", "rtl512"]):
        h = sim.add_host(f"h{i}", nic=NIC_KINDS[kind]())
        h.add_address(f"10.0.1.{i + 10}/24")
        h.add_route("0.0.0.0/0", via="10.0.1.1")
        sim.connect(h, sw)
        hosts.append(h)
    far = sim.add_host("far", nic=vd.SoftNic())
    far.add_address("10.0.2.2/24")
    far.add_route("0.0.0.0/0", via="10.0.2.1")
    link = sim.connect(r, far, a_nic=wan)
    for h in hosts:
        assert None not in h.ping("10.0.2.2", count=3), h.name
    assert None not in far.ping("10.0.1.11", count=2)
    link.set_faults("both", loss=0.1)
    rtts = hosts[0].ping("10.0.2.2", count=100, timeout_ms=0.5)
    sim.run_for(us=100)
    to_far, from_far = link.fault_stats(r), link.fault_stats(far)
    assert rtts.count(None) == to_far["dropped"] + from_far["dropped"] > 0
