"""NicTestbench: raw NIC tests on RtlNic and SoftNic alike, with packets built
by scapy and RSS hashes checked against a Toeplitz hash written here in
Python (independent of the C++ reference model)."""
import random

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting
from scapy.layers.l2 import ARP, Dot1Q, Ether

import veridian as vd

TB_KINDS = {
    "rtl512": lambda: vd.RtlNic(queues=16, data_width=512),
    "rtl64": lambda: vd.RtlNic(queues=16, data_width=64),
    "soft": lambda: vd.SoftNic(queues=16),
}
ALL_TYPES = {"ipv4", "tcp4", "udp4", "ipv6", "tcp6", "udp6"}
# Microsoft's RSS verification key.
MS_KEY = bytes.fromhex("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa")


def toeplitz(key: bytes, data: bytes) -> int:
    k = int.from_bytes(key, "big")
    h = 0
    for i in range(len(data) * 8):
        if (data[i // 8] >> (7 - i % 8)) & 1:
            h ^= (k >> (len(key) * 8 - 32 - i)) & 0xFFFFFFFF
    return h


def addr_bytes(pkt):
    import ipaddress
    if IP in pkt:
        return ipaddress.ip_address(pkt[IP].src).packed + ipaddress.ip_address(pkt[IP].dst).packed
    return ipaddress.ip_address(pkt[IPv6].src).packed + ipaddress.ip_address(pkt[IPv6].dst).packed


def expected_rss(pkt, types):
    """(type name, hash) as the RSS spec defines it, for the frames built below."""
    v4 = IP in pkt
    l4 = TCP if TCP in pkt else UDP if UDP in pkt else None
    frag = (v4 and (pkt[IP].flags.MF or pkt[IP].frag)) or IPv6ExtHdrFragment in pkt
    four = None if l4 is None else (("tcp" if l4 is TCP else "udp") + ("4" if v4 else "6"))
    data = addr_bytes(pkt)
    if four and not frag and four in types:
        return four, toeplitz(MS_KEY, data + pkt[l4].sport.to_bytes(2, "big") + pkt[l4].dport.to_bytes(2, "big"))
    two = "ipv4" if v4 else "ipv6"
    if two in types:
        return two, toeplitz(MS_KEY, data)
    return None, 0


def rss_frames(rng):
    """IPv4/IPv6 TCP/UDP/ICMP frames, VLAN-tagged or not, with options,
    extension headers and fragments."""
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    out = []
    for i in range(60):
        sport, dport = rng.randrange(1, 65536), rng.randrange(1, 65536)
        v4src = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        v4dst = f"192.168.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        v6src = f"2001:db8::{rng.randrange(1, 65536):x}:{rng.randrange(65536):x}"
        v6dst = f"fd00:{rng.randrange(65536):x}::{rng.randrange(1, 65536):x}"
        l2 = eth / Dot1Q(vlan=rng.randrange(1, 4095)) if i % 5 == 0 else eth
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
        kind = i % 10
        if kind == 0:
            p = l2 / IP(src=v4src, dst=v4dst) / TCP(sport=sport, dport=dport) / payload
        elif kind == 1:
            p = l2 / IP(src=v4src, dst=v4dst, options=b"\x01" * 8) / UDP(sport=sport, dport=dport) / payload
        elif kind == 2:
            p = l2 / IP(src=v4src, dst=v4dst, flags="MF") / UDP(sport=sport, dport=dport) / payload
        elif kind == 3:
            p = l2 / IP(src=v4src, dst=v4dst) / ICMP() / payload
        elif kind == 4:
            p = l2 / IPv6(src=v6src, dst=v6dst) / TCP(sport=sport, dport=dport) / payload
        elif kind == 5:
            p = l2 / IPv6(src=v6src, dst=v6dst) / UDP(sport=sport, dport=dport) / payload
        elif kind == 6:
            p = l2 / IPv6(src=v6src, dst=v6dst) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / TCP(sport=sport, dport=dport) / payload
        elif kind == 7:
            p = l2 / IPv6(src=v6src, dst=v6dst) / IPv6ExtHdrRouting() / UDP(sport=sport, dport=dport) / payload
        elif kind == 8:
            p = l2 / IPv6(src=v6src, dst=v6dst) / IPv6ExtHdrFragment(m=1) / UDP(sport=sport, dport=dport) / payload
        else:
            p = l2 / IPv6(src=v6src, dst=v6dst) / ICMP() / payload
        out.append(Ether(bytes(p)))
    return out


@pytest.mark.parametrize("kind", list(TB_KINDS))
def test_rss_hash_type_and_queue_match_an_independent_toeplitz(kind):
    rng = random.Random(11)
    tb = vd.NicTestbench(TB_KINDS[kind]())
    assert tb.features()["rx_hash"]
    table = [rng.randrange(16) for _ in range(128)]
    results = {}
    for types in (ALL_TYPES, {"ipv4", "ipv6"}, {"tcp4", "udp6"}):
        tb.set_rss(key=MS_KEY, table=table, types=types)
        for pkt in rss_frames(rng):
            tb.inject(bytes(pkt))
            tb.run_until_idle()
            (c,) = tb.rx_completions()
            assert c.data == bytes(pkt)
            want_type, want_hash = expected_rss(pkt, types)
            assert (c.rss_type, c.rss_hash) == (want_type, want_hash), pkt.summary()
            assert c.queue == (table[want_hash % 128] if want_type else 0), pkt.summary()
            results[want_type] = results.get(want_type, 0) + 1
    assert set(results) == {None} | ALL_TYPES, results  # every outcome was exercised


def test_rss_published_vector_and_rtl_equals_soft():
    frame = bytes(Ether() / IP(src="66.9.149.187", dst="161.142.100.80") / TCP(sport=2794, dport=1766))
    got = []
    for kind in TB_KINDS:
        tb = vd.NicTestbench(TB_KINDS[kind]())
        tb.set_rss(key=MS_KEY, table=[q % 16 for q in range(128)], types=ALL_TYPES)
        tb.inject(frame)
        tb.run_until_idle()
        (c,) = tb.rx_completions()
        got.append((c.rss_type, c.rss_hash, c.queue))
    assert got[0] == ("tcp4", 0x51CCC178, 0x51CCC178 % 16)
    assert got.count(got[0]) == len(got)


@pytest.mark.parametrize("kind", list(TB_KINDS))
def test_rss_off_sends_everything_to_queue_0(kind):
    tb = vd.NicTestbench(TB_KINDS[kind]())
    tb.set_rss(key=MS_KEY, table=[5] * 128, types=set())
    tb.inject(bytes(Ether() / IP() / TCP(sport=1, dport=2)))
    tb.inject(bytes(Ether() / ARP()))
    tb.run_until_idle()
    cs = tb.rx_completions()
    assert [(c.queue, c.rss_type, c.rss_hash) for c in cs] == [(0, None, 0), (0, None, 0)]


@pytest.mark.parametrize("kind", list(TB_KINDS))
def test_rx_checksum_verdicts(kind):
    tb = vd.NicTestbench(TB_KINDS[kind]())
    good = Ether(bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5, dport=6) / b"hello"))
    bad_udp = bytearray(bytes(good))
    bad_udp[-1] ^= 0xFF                      # payload changed, checksum not
    bad_ip = bytearray(bytes(good))
    bad_ip[14 + 10] ^= 0x01                   # IPv4 header checksum
    v6 = bytes(Ether() / IPv6() / TCP(sport=1, dport=2) / (b"x" * 33))
    for f in (bytes(good), bytes(bad_udp), bytes(bad_ip), v6):
        tb.inject(f)
        tb.run_until_idle()
    got = [(c.csum.ip, c.csum.l4) for c in tb.rx_completions()]
    assert got == [("good", "good"), ("good", "bad"), ("bad", "good"), ("not_checked", "good")]


@pytest.mark.parametrize("kind", list(TB_KINDS))
def test_tx_partial_checksum_is_right_by_scapy(kind):
    tb = vd.NicTestbench(TB_KINDS[kind]())
    rng = random.Random(3)
    sent = []
    for n in (0, 1, 17, 500, 1400):
        p = Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000 + n, dport=7) / bytes(rng.randrange(256) for _ in range(n))
        raw = bytearray(bytes(p))
        # Linux CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum.
        ulen = 8 + n
        s = 0x0A00 + 0x0001 + 0x0A00 + 0x0002 + 17 + ulen
        s = (s & 0xFFFF) + (s >> 16)
        raw[40:42] = s.to_bytes(2, "big")
        assert tb.send(bytes(raw), csum="partial", csum_start=34, csum_offset=6, queue=n % 4)
        sent.append(bytes(p))
    tb.run_until_idle()
    wire = [f.data for f in tb.wire_frames()]
    assert sorted(wire) == sorted(sent)      # scapy's own checksums, byte for byte


def test_testbench_argument_errors():
    tb = vd.NicTestbench(vd.RtlNic(queues=4, data_width=64))
    with pytest.raises(ValueError, match="40 bytes"):
        tb.set_rss(key=b"short", table=[0], types={"ipv4"})
    with pytest.raises(ValueError, match="unknown RSS type"):
        tb.set_rss(key=MS_KEY, table=[0], types={"sctp4"})
    with pytest.raises(ValueError, match="RX queues"):
        tb.set_rss(key=MS_KEY, table=[0, 7], types={"ipv4"})
    with pytest.raises(ValueError, match="power-of-two"):
        tb.set_rss(key=MS_KEY, table=[0, 1, 2], types={"ipv4"})
    with pytest.raises(ValueError, match="csum_start"):
        tb.send(b"\x00" * 60, csum="partial")
    with pytest.raises(ValueError, match="TX queues"):
        tb.send(b"\x00" * 60, queue=9)
    with pytest.raises(ValueError, match="empty"):
        tb.inject(b"")
    with pytest.raises(TypeError):
        vd.NicTestbench("rtl")
    # Nothing above broke the NIC.
    tb.inject(bytes(Ether() / IP() / UDP()))
    tb.run_until_idle()
    assert len(tb.rx_completions()) == 1


def test_rx_checksum_switched_off_reports_not_checked_and_moderation_still_delivers():
    tb = vd.NicTestbench(vd.RtlNic(queues=2, data_width=512, rx_csum=False, irq_frames=4, irq_delay_ns=2000),
                         rate_gbps=10)
    assert not tb.features()["rx_csum"]
    good = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5, dport=6) / b"hello")
    for _ in range(3):                        # fewer than irq_frames: the timer delivers them
        tb.inject(good)
    tb.run_until_idle()
    cs = tb.rx_completions()
    assert [(c.csum.ip, c.csum.l4) for c in cs] == [("not_checked", "not_checked")] * 3
    # the timer fired 2 us after the first completion, not at once
    assert cs[-1].time_ns - cs[0].time_ns < 100


def test_rx_burst_loss_shows_in_nic_stats():
    """Back-to-back minimum-size frames at 100 GbE overrun the RTL NIC's RX
    packet buffer (the line-rate issue); every frame is either delivered or
    counted in nic_stats()["rx_drop_full"], which agrees with the NIC's own
    STAT_RX_DROP_FULL register and is read without touching the NIC."""
    tb = vd.NicTestbench(vd.RtlNic(queues=1, data_width=512))
    frames = [bytes(Ether(dst="02:00:00:00:00:01") / IP(dst="10.0.0.1") / UDP(sport=i, dport=9)) for i in range(16)]
    for f in frames:
        tb.inject(f.ljust(60, b"\0"))
    tb.run_until_idle()
    delivered = len(tb.rx_completions())
    cycles = tb.cycles()
    dropped = tb.nic_stats()["rx_drop_full"]
    assert tb.cycles() == cycles, "reading nic_stats() clocked the NIC"
    assert dropped > 0, "the burst was expected to overrun the RX packet buffer"
    assert delivered + dropped == 16
    assert tb.read_reg(vd.abi.REG_STAT_RX_DROP_FULL) == dropped
