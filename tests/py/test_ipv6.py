"""IPv6 over the simulation: SLAAC from a router advertisement, ping6 over
link-local and global addresses, a 60,000-byte UDP datagram fragmented and
reassembled, the pcap dissected by tshark (checksums on, nothing
malformed), and malformed packets crafted with scapy counted as drops."""
import shutil
import subprocess

import pytest
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (ICMPv6EchoRequest, ICMPv6ND_NS, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                                IPv6ExtHdrRouting, HBHOptUnknown)
from scapy.layers.l2 import Ether

import veridian as vd
from conftest import NIC_KINDS

PREFIX = "2001:db8:1::"


def v6_pair(kind_b="soft", pcap=None):
    sim = vd.Simulation(seed=6)
    a = sim.add_host("a", nic=vd.SoftNic())
    b = sim.add_host("b", nic=NIC_KINDS[kind_b]())
    link = sim.connect(a, b, rate_gbps=100, latency_ns=500)
    if pcap:
        sim.capture(link, str(pcap))
    # a is the router of the link: a static address and RAs with the prefix.
    a.add_address("2001:db8:1::1/64")
    a.set_router_advert([PREFIX + "/64"], interval_s=30.0)
    b.enable_ipv6()
    sim.run_for(ms=5000)  # DAD (1 s), RS, RA, DAD of the SLAAC address
    return sim, a, b, link


def addr(host, kind):
    for a, plen, state, auto in host.addresses6():
        if state == "preferred" and (a.startswith("fe80:") == (kind == "ll")):
            return a
    raise AssertionError(f"{host} has no preferred {kind} address: {host.addresses6()}")


def eui64(mac, prefix):
    b = [int(x, 16) for x in mac.split(":")]
    b[0] ^= 2
    groups = [(b[0] << 8) | b[1], (b[2] << 8) | 0xff, 0xfe00 | b[3], (b[4] << 8) | b[5]]
    import ipaddress
    return str(ipaddress.IPv6Address(prefix + ":".join(f"{g:x}" for g in groups)))


def test_slaac_and_ping6_link_local_and_global():
    sim, a, b, _ = v6_pair()
    b_global = addr(b, "global")
    assert b_global == eui64(b.mac, "2001:db8:1:0:")
    assert b.default_router6() == addr(a, "ll")
    assert all(state == "preferred" for _, _, state, _ in b.addresses6())
    # link-local both ways, then global both ways
    assert None not in a.ping6(addr(b, "ll"), count=2)
    assert None not in b.ping6(addr(a, "ll"), count=2)
    assert None not in b.ping("2001:db8:1::1", count=2)          # ping() takes v6 too
    rtts = a.ping6(b_global, count=3)
    assert None not in rtts and all(r > 1000 for r in rtts)      # two 500 ns hops at least
    # a large echo goes out in fragments and comes back whole
    assert None not in b.ping6("2001:db8:1::1", size=4000)
    st = b.stats()
    assert st["events"].get("ipv6.reassembled", 0) >= 1
    assert st["events"].get("nd.slaac_address") == 1
    assert st["layers"]["icmpv6"]["rx_packets"] >= 8
    assert not {k: v for k, v in st["drops"].items() if not k.startswith("eth.not_for_us")}, st["drops"]


def tshark_rows(pcap):
    exe = shutil.which("tshark")
    if exe is None:
        pytest.fail("tshark is not installed (scripts/setup.sh installs it)")
    cmd = [exe, "-r", str(pcap), "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "separator=|",
           "-e", "frame.number", "-e", "ipv6.nxt", "-e", "ipv6.fraghdr.offset", "-e", "udp.checksum.status",
           "-e", "icmpv6.checksum.status", "-e", "udp.length", "-e", "_ws.malformed", "-e", "_ws.expert.severity"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [line.split("|") for line in out.stdout.splitlines()]


@pytest.mark.parametrize("kind", ["soft", "rtl512"])
def test_udp_60000_bytes_fragmented_reassembled_and_tshark_clean(kind, tmp_path):
    pcap = tmp_path / "v6.pcap"
    sim, a, b, _ = v6_pair(kind, pcap=pcap)
    b_global = addr(b, "global")
    srv = b.udp_socket()
    srv.bind(("::", 7000))
    cli = a.udp_socket()
    cli.bind(("2001:db8:1::1", 0))
    data = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(60000))
    assert cli.sendto(data, (b_global, 7000)) == 60000
    got, (src, sport) = srv.recvfrom(timeout_ns=5_000_000)
    assert got == data
    assert src == "2001:db8:1::1" and sport == cli.getsockname()[1]
    # the answer the other way, small
    srv.sendto(b"thanks", (src, sport))
    assert cli.recvfrom(timeout_ns=1_000_000) == (b"thanks", (b_global, 7000))
    ev = a.stats()["events"]
    assert ev["ipv6.fragments_sent"] == -(-60008 // 1448)
    assert b.stats()["events"]["ipv6.reassembled"] == 1
    sim.flush()
    rows = tshark_rows(pcap)
    assert len(rows) > 45
    for r in rows:
        num, nxt, fo, udp_ck, icmp_ck, udp_len, malformed, severity = (r + [""] * 8)[:8]
        assert malformed == "", r
        assert "error" not in severity.split(","), r      # "Error" expert items: checksum, malformed
        if udp_ck:
            assert udp_ck == "2" or udp_ck == "1", r         # 1 = good (2 = unverified never expected here)
            assert udp_ck == "1", r
        if icmp_ck:
            assert icmp_ck == "1", r
    # tshark reassembled the datagram and verified its UDP checksum
    assert any(r[5] == "60008" and r[3] == "1" for r in rows), rows[-3:]
    # every frame within the MTU
    assert all(len(p) <= 1514 for p in _frames(pcap))


def _frames(pcap):
    from scapy.utils import rdpcap
    return [bytes(p) for p in rdpcap(str(pcap))]


def test_malformed_ipv6_is_counted_never_crashes():
    sim, a, b, _ = v6_pair()
    b_global = addr(b, "global")
    srv = b.udp_socket()
    srv.bind(("::", 7))
    eth = Ether(dst=b.mac, src=a.mac)
    src = "2001:db8:1::1"
    good = IPv6(src=src, dst=b_global) / UDP(sport=1, dport=7) / b"data"

    def send(p):
        b.inject(bytes(p) if not isinstance(p, (bytes, bytearray)) else bytes(p))
        sim.run_for(us=5)

    send(eth / good)
    assert srv.recvfrom() == (b"data", (src, 1))
    bad_len = bytearray(bytes(eth / good))
    bad_len[14 + 4:14 + 6] = (400).to_bytes(2, "big")
    send(bad_len)
    zero_ck = bytearray(bytes(eth / good))
    zero_ck[14 + 40 + 6:14 + 40 + 8] = b"\0\0"
    send(zero_ck)
    bad_ck = bytearray(bytes(eth / good))
    bad_ck[-1] ^= 0xFF
    send(bad_ck)
    send(eth / IPv6(src=src, dst=b_global) / IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:db8::5"]) /
         UDP(sport=1, dport=7) / b"rh0")
    send(eth / IPv6(src=src, dst=b_global, nh=253) / (b"\0" * 16))
    send(eth / IPv6(src=src, dst=b_global) / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9f, optdata=b"xx")]) /
         UDP(sport=1, dport=7) / b"opt")
    # overlapping fragments: the datagram is dropped whole
    payload = bytes(UDP(sport=1, dport=7) / (b"z" * 2000))
    f1 = IPv6(src=src, dst=b_global) / IPv6ExtHdrFragment(id=99, offset=0, m=1, nh=17) / payload[:1024]
    f2 = IPv6(src=src, dst=b_global) / IPv6ExtHdrFragment(id=99, offset=1000 // 8, m=0, nh=17) / payload[1000:]
    send(eth / f1)
    send(eth / f2)
    # an NS with hop limit 64 (must be 255)
    send(Ether(dst="33:33:ff:00:00:02", src=a.mac) /
         IPv6(src=addr(a, "ll"), dst="ff02::1:ff00:2", hlim=64) / ICMPv6ND_NS(tgt=b_global))
    # truncated header
    send(bytes(eth / good)[:14 + 30])
    sim.run_for(us=100)
    drops = b.stats()["drops"]
    assert drops.get("ipv6.bad_length") == 1, drops
    assert drops.get("udp.zero_checksum_v6") == 1, drops
    assert drops.get("udp.bad_checksum") == 1, drops
    assert drops.get("ipv6.routing_type0") == 1, drops
    assert drops.get("ipv6.unknown_protocol") == 1, drops
    assert drops.get("ipv6.unknown_option") == 1, drops
    assert drops.get("ipv6.frag_overlap") == 1, drops
    assert drops.get("nd.bad_hop_limit") == 1, drops
    assert drops.get("ipv6.too_short") == 1, drops
    assert srv.pending == 0
    # parameter problems went back to a (rate limited, at most the burst)
    assert 1 <= b.stats()["events"].get("icmpv6.tx_param_problem", 0) <= 10
    # still works
    assert None not in a.ping6(b_global)


def test_v6_accepted_by_the_general_host_api():
    sim, a, b, _ = v6_pair()
    b_global = addr(b, "global")
    assert None not in a.ping(b_global)
    assert a.path_mtu(b_global) == 1500
    nb = [n for n in a.neighbors() if n["addr"] == b_global]
    assert nb and nb[0]["mac"] == b.mac and nb[0]["state"] in ("reachable", "stale", "delay")
    assert any(r["prefix"] == "2001:db8:1::/64" and r["connected"] for r in a.routes())
    assert any(r["prefix"] == "::/0" and r["via"] == addr(a, "ll") for r in b.routes())
    a.add_route("2001:db8:99::/48", via=b_global)
    assert any(r["prefix"] == "2001:db8:99::/48" for r in a.routes())
    with pytest.raises(ValueError):
        a.add_route("2001:db8:99::/48", via=b_global)  # exists
    with pytest.raises(ValueError):
        a.add_address("2001:db8::1/129")
    s = b.udp_socket()
    s.bind((b_global, 9))
    assert s.getsockname() == (b_global, 9)
    with pytest.raises(OSError):
        s.sendto(b"x", ("10.0.0.1", 9))  # an IPv6 socket
