"""Hostile IPv4 and ARP input built with scapy: each is dropped and counted
with its reason, and the host keeps working. Runs on RtlNic and SoftNic."""
import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption, fragment
from scapy.layers.l2 import ARP, Ether

from conftest import NIC_KINDS, make_pair, tshark_fields

EVIL = "02:00:00:00:00:66"


def send(sim, host, pkt, src=EVIL):
    """Deliver an IP packet (or ARP) to host as if from the wire, spaced like a wire."""
    host.inject(bytes(Ether(dst=host.mac if not isinstance(pkt, ARP) else "ff:ff:ff:ff:ff:ff", src=src) / pkt))
    sim.run_for(us=5)


def drops(host):
    return host.stats()["drops"]


@pytest.fixture(params=["rtl512", "soft"])
def pair(request, tmp_path):
    sim, a, b, link = make_pair(NIC_KINDS["soft"](), NIC_KINDS[request.param](), pcap=tmp_path / "h.pcap")
    return sim, a, b, tmp_path / "h.pcap"


def test_fragment_attacks_are_counted(pair):
    sim, a, b, _ = pair
    sock = b.udp_socket()
    sock.bind(("0.0.0.0", 7))
    # Overlapping fragments (RFC 1858/3128 evasion): the whole datagram goes.
    send(sim, b, IP(src="10.0.0.9", dst="10.0.0.2", id=1, flags="MF", frag=0, proto=17) / (b"A" * 16))
    send(sim, b, IP(src="10.0.0.9", dst="10.0.0.2", id=1, flags="MF", frag=1, proto=17) / (b"B" * 16))
    # A tiny first TCP fragment without the whole TCP header.
    send(sim, b, IP(src="10.0.0.9", dst="10.0.0.2", id=2, flags="MF", frag=0, proto=6) / (b"T" * 8))
    # Ping of death: a fragment that ends past 65535 bytes.
    send(sim, b, IP(src="10.0.0.9", dst="10.0.0.2", id=3, frag=8189, proto=1) / (b"P" * 100))
    # A non-last fragment that is not a multiple of 8 bytes.
    send(sim, b, IP(src="10.0.0.9", dst="10.0.0.2", id=4, flags="MF", frag=0, proto=17) / (b"C" * 13))
    d = drops(b)
    assert d.get("ipv4.frag_overlap") == 2, d
    assert d.get("ipv4.frag_tiny") == 1, d
    assert d.get("ipv4.frag_too_big") == 1, d
    assert d.get("ipv4.frag_bad_length") == 1, d
    # A scapy-fragmented datagram in reverse order, one fragment duplicated.
    payload = bytes(range(256)) * 12
    frags = fragment(IP(src="10.0.0.1", dst="10.0.0.2", id=77) / UDP(sport=5, dport=7) / payload, fragsize=800)
    assert len(frags) >= 4
    for f in [frags[1]] + list(reversed(frags)):
        send(sim, b, f, src=a.mac)
    assert sock.recvfrom(timeout_ns=10_000)[0] == payload
    assert drops(b).get("ipv4.frag_duplicate") == 1
    assert b.stats()["events"]["ipv4.reassembled"] == 1


def test_fragment_flood_is_bounded_and_honest_traffic_passes(pair):
    sim, a, b, _ = pair
    for i in range(300):
        send(sim, b, IP(src="10.0.0.9", dst="10.0.0.2", id=1000 + i, flags="MF", proto=17) / (b"F" * 512))
    assert drops(b).get("ipv4.reasm_evicted", 0) >= 300 - 64
    # A fragmented ping still gets through (and back, fragmented again).
    rtt = a.ping("10.0.0.2", size=4000)
    assert rtt[0] is not None
    assert b.stats()["events"]["ipv4.fragments_sent"] >= 3


def test_bogus_options_and_source_routes(pair):
    sim, a, b, _ = pair
    base = dict(src="10.0.0.9", dst="10.0.0.2")
    send(sim, b, IP(**base, options=[IPOption(b"\x07\x01\x04\x00")]) / UDP(sport=1, dport=9) / b"x")  # length 1
    send(sim, b, IP(**base, options=[IPOption(b"\x44\x30\x05\x00")]) / UDP(sport=1, dport=9) / b"x")  # runs past the header
    send(sim, b, IP(**base, options=[IPOption(b"\x83\x07\x04\x0a\x00\x00\x02\x00")]) / UDP(sport=1, dport=9) / b"x")  # LSRR
    d = drops(b)
    assert d.get("ipv4.bad_option") == 2, d
    assert d.get("ipv4.source_route") == 1, d
    # Well-formed options (NOP, router alert) are skipped; the datagram is delivered.
    sock = b.udp_socket()
    sock.bind(("0.0.0.0", 9))
    send(sim, b, IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption(b"\x94\x04\x00\x00")]) / UDP(sport=1, dport=9) / b"ok",
         src=a.mac)
    assert sock.recvfrom(timeout_ns=10_000)[0] == b"ok"


def test_arp_spoofing_is_refused(pair):
    sim, a, b, _ = pair
    assert a.ping("10.0.0.2")[0] is not None  # b now holds a confirmed entry for 10.0.0.1
    # Unsolicited replies and announcements moving 10.0.0.1 to the attacker.
    send(sim, b, ARP(op=2, hwsrc=EVIL, psrc="10.0.0.1", hwdst=b.mac, pdst="10.0.0.2"))
    send(sim, b, ARP(op=1, hwsrc=EVIL, psrc="10.0.0.1", pdst="10.0.0.1"))
    # Claiming b's own address.
    send(sim, b, ARP(op=1, hwsrc=EVIL, psrc="10.0.0.2", pdst="10.0.0.2"))
    d = drops(b)
    assert d.get("arp.update_locked") == 2, d
    assert d.get("arp.address_conflict") == 1, d
    # b still answers a, at a's real MAC.
    assert a.ping("10.0.0.2")[0] is not None


def test_icmp_errors_on_the_wire_pass_tshark(pair):
    sim, a, b, pcap = pair
    s = a.udp_socket()
    s.sendto(b"probe", ("10.0.0.2", 4444))   # closed: port unreachable back
    assert a.ping("10.0.0.2", size=3000)[0] is not None   # fragments both ways
    sim.flush()
    rows = tshark_fields(pcap, "ip.src", "ip.flags.mf", "icmp.type", "icmp.code", "_ws.expert.message")
    assert any(r[2:4] == ("3", "3") for r in rows), rows
    assert sum(1 for r in rows if r[1] == "1") >= 2, rows  # first fragments of request and reply
    for r in rows:
        assert "Malformed" not in r[-1] and "Bad checksum" not in r[-1], r
