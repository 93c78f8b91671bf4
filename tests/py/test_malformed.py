"""Malformed input is dropped and counted, never crashed on."""
import errno

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import ARP, Ether

import veridian as vd
from conftest import NIC_KINDS, make_pair


def frame_to(b, payload):
    return bytes(Ether(dst=b.mac, src="02:00:00:00:00:99") / payload)


@pytest.mark.parametrize("kind", ["rtl512", "rtl64", "soft"])
def test_bad_frames_are_counted(kind):
    sim, a, b, _ = make_pair(NIC_KINDS["soft"](), NIC_KINDS[kind]())
    good = IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=7) / b"data"
    bad_ipck = bytearray(frame_to(b, good))
    bad_ipck[14 + 10] ^= 0xFF  # IPv4 header checksum
    bad_udpck = bytearray(frame_to(b, good))
    bad_udpck[14 + 20 + 6] ^= 0x55  # UDP checksum
    bad_len = bytearray(frame_to(b, IP(src="10.0.0.1", dst="10.0.0.2", len=400) / UDP(sport=1, dport=7) / b"x"))
    cases = [bytes(bad_ipck), bytes(bad_udpck), bytes(bad_len),
             bytes(Ether(dst=b.mac, type=0x0800) / b"\x45\x00\x00"),     # truncated IPv4 header
             bytes(Ether(dst=b.mac, type=0x88B5) / (b"\0" * 50)),       # unknown ethertype
             b"\x01\x02\x03"]                                           # runt: shorter than a header
    # inject() bypasses the link, so space the frames out as a wire would:
    # a burst at one instant would (correctly) overflow the RTL's RX slots.
    for f in cases:
        b.inject(f)
        sim.run_for(us=5)
    b.inject(frame_to(b, good), fcs_error=True)                          # bad FCS from the MAC
    sim.run_for(us=100)
    st = b.stats()
    drops = st["drops"]
    assert drops.get("ipv4.bad_checksum", 0) == 1, drops
    assert drops.get("udp.bad_checksum", 0) == 1, drops
    assert drops.get("ipv4.bad_length", 0) == 1, drops
    assert drops.get("ipv4.too_short", 0) == 1, drops
    assert drops.get("eth.unsupported_ethertype", 0) == 1, drops
    nic = b.nic.stats()
    if kind == "soft":
        assert nic["rx_drop_error"] == 1 and nic["rx_drop_runt"] == 1
    else:
        regs = b.nic.registers()
        assert regs["nic_rx_drop_error"] == 2, regs      # FCS error and the 3-byte runt
        assert regs["nic_rx_drop_full"] == 0, regs
    # The host still works afterwards.
    assert a.ping("10.0.0.2") != [None]


def test_udp_to_closed_port_is_counted():
    sim, a, b, _ = make_pair(NIC_KINDS["rtl512"](), NIC_KINDS["soft"]())
    a.udp_socket().sendto(b"hi", ("10.0.0.2", 4444))
    sim.run_for(us=50)
    assert b.stats()["drops"].get("udp.no_socket") == 1


def test_api_errors_are_clear():
    sim, a, b, _ = make_pair(NIC_KINDS["soft"](), NIC_KINDS["soft"]())
    s = a.udp_socket()
    with pytest.raises(ValueError):
        s.sendto(b"x", ("not-an-ip", 1))
    with pytest.raises(ValueError):
        s.sendto(b"x", ("10.0.0.2", 70000))
    with pytest.raises(TypeError):
        s.sendto(b"x", "10.0.0.2:1")
    with pytest.raises(OSError) as e:
        s.sendto(b"x" * 65508, ("10.0.0.2", 1))  # beyond the largest UDP datagram
    assert e.value.errno == errno.EMSGSIZE
    with pytest.raises(BlockingIOError):
        s.recvfrom()
    with pytest.raises(TimeoutError):
        s.recvfrom(timeout_ns=1000)
    with pytest.raises(ValueError):
        a.add_address("10.0.0.300/24")
    with pytest.raises(ValueError):
        vd.Simulation().add_host("x", nic=vd.RtlNic(data_width=128))
    with pytest.raises(ValueError):
        sim.add_host("a")  # duplicate name
    with pytest.raises(Exception):
        sim.connect(a, b)  # already cabled
