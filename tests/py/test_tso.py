"""TSO and full checksum insertion through NicTestbench: scapy builds the
sends, tshark validates every segment's IP and TCP checksums from a pcap,
the segments reassemble to the original byte stream, and the RTL NIC at both
widths agrees with SoftNic (the reference models) byte for byte."""
import random
import shutil
import subprocess

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop
from scapy.layers.l2 import Dot1Q, Ether
from scapy.utils import wrpcap

import veridian as vd

KINDS = {
    "rtl512": lambda: vd.RtlNic(queues=4, data_width=512),
    "rtl64": lambda: vd.RtlNic(queues=4, data_width=64),
    "soft": lambda: vd.SoftNic(queues=4),
}


def super_frame(rng, v6: bool, payload_len: int, vlan=False, ext=False, flags="PA"):
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    l2 = eth / Dot1Q(vlan=7) if vlan else eth
    tcp = TCP(sport=40000, dport=80, seq=rng.randrange(1 << 32), flags=flags,
              options=[("MSS", 1460), ("NOP", None), ("WScale", 7), ("SAckOK", b""), ("Timestamp", (1, 2))])
    payload = bytes(rng.randrange(256) for _ in range(payload_len))
    if v6:
        ip = IPv6(src="2001:db8::1", dst="2001:db8::2")
        if ext:
            ip = ip / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
    else:
        ip = IP(src="10.0.0.1", dst="10.0.0.2", id=rng.randrange(65536), options=b"\x01\x01\x01\x00" if vlan else b"")
    p = Ether(bytes(l2 / ip / tcp / payload))
    return p, payload


def tshark_checksums(pcap):
    exe = shutil.which("tshark")
    if exe is None:
        pytest.fail("tshark is not installed (scripts/setup.sh installs it)")
    cmd = [exe, "-r", str(pcap), "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
           "-T", "fields", "-e", "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "tcp.len",
           "-e", "_ws.malformed"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [line.split("\t") for line in out.stdout.splitlines()]


def run_tso(kind, frame: bytes, mss: int):
    tb = vd.NicTestbench(KINDS[kind]())
    assert tb.features()["tso"]
    assert tb.send(frame, tso_mss=mss, queue=1)
    tb.run_until_idle()
    return [f.data for f in tb.wire_frames()], tb


CASES = [  # (v6, payload, mss, vlan, ext)
    (False, 20000, 1448, False, False),
    (False, 4000, 536, True, False),
    (True, 20000, 1428, False, False),
    (True, 3001, 1000, False, True),
    (False, 65535 - 14 - 20 - 40, 1460, False, False),   # the largest send
    (False, 100, 1, False, False),                       # MSS 1
    (True, 9000 - 100, 9000, False, False),              # one segment
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_tso_segments_pass_tshark_reassemble_and_match_the_model(case, tmp_path):
    v6, plen, mss, vlan, ext = CASES[case]
    rng = random.Random(case)
    sf, payload = super_frame(rng, v6, plen, vlan=vlan, ext=ext, flags="FPA" if case % 2 else "PA")
    frame = bytes(sf)
    results = {}
    for kind in KINDS:
        segs, tb = run_tso(kind, frame, mss)
        results[kind] = segs
        if kind.startswith("rtl"):
            assert tb.nic_stats().get("tx_errors", 0) == 0
    # RTL at both widths equals the reference model, segment for segment
    assert results["rtl512"] == results["soft"]
    assert results["rtl64"] == results["soft"]
    segs = results["rtl512"]
    assert len(segs) == max(1, -(-plen // mss))
    # an outside tool validates every IP and TCP checksum
    pcap = tmp_path / "tso.pcap"
    wrpcap(str(pcap), [Ether(s) for s in segs])
    rows = tshark_checksums(pcap)
    assert len(rows) == len(segs)
    for ip_st, tcp_st, tlen, malformed in rows:
        assert tcp_st == "1", rows            # 1 = good
        assert ip_st in ("1", ""), rows       # IPv6 has no header checksum
        assert malformed == ""
    # reassembled, the segments give back the byte stream; flags per RFC/Linux
    seq0 = sf[TCP].seq
    data = b""
    for i, s in enumerate(segs):
        t = Ether(s)[TCP]
        assert t.seq == (seq0 + len(data)) % (1 << 32)
        data += bytes(t.payload)
        last = i == len(segs) - 1
        assert bool(t.flags.F) == (last and "F" in str(sf[TCP].flags))
        assert bool(t.flags.P) == (last and "P" in str(sf[TCP].flags))
        assert len(bytes(t.payload)) <= mss
    assert data == payload


def test_full_checksum_insertion_checked_by_tshark(tmp_path):
    rng = random.Random(5)
    frames = []
    for i in range(40):
        pl = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 1400)))
        if i % 3 == 0:
            p = Ether() / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=i + 1, dport=9) / pl
        elif i % 3 == 1:
            p = Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=i + 1, dport=80) / pl
        else:
            p = Ether() / Dot1Q(vlan=3) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=i + 1, dport=9) / pl
        raw = bytearray(bytes(p))
        frames.append((bytes(p), raw))
    wire = {}
    for kind in KINDS:
        tb = vd.NicTestbench(KINDS[kind]())
        for good, raw in frames:
            bad = bytearray(raw)
            # wipe the checksums the NIC is to fill in
            e = Ether(bytes(bad))
            if IP in e:
                off = len(bytes(e)) - len(bytes(e[IP]))
                bad[off + 10:off + 12] = b"\0\0"
            l4 = TCP if TCP in e else UDP
            off4 = len(bytes(e)) - len(bytes(e[l4]))
            fo = off4 + (16 if l4 is TCP else 6)
            bad[fo:fo + 2] = b"\xab\xcd"
            assert tb.send(bytes(bad), csum=True)
        tb.run_until_idle()
        wire[kind] = [f.data for f in tb.wire_frames()]
    assert wire["rtl512"] == wire["soft"] == wire["rtl64"]
    assert wire["rtl512"] == [g for g, _ in frames]   # scapy's own checksums, byte for byte
    pcap = tmp_path / "full.pcap"
    wrpcap(str(pcap), [Ether(s) for s in wire["rtl512"]])
    exe = shutil.which("tshark")
    out = subprocess.run([exe, "-r", str(pcap), "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                          "-o", "tcp.check_checksum:TRUE", "-T", "fields", "-e", "ip.checksum.status",
                          "-e", "udp.checksum.status", "-e", "tcp.checksum.status"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    for line in out.stdout.splitlines():
        st = [x for x in line.split("\t") if x]
        assert st and all(x == "1" for x in st), line


def test_bad_tso_send_is_refused_and_the_nic_keeps_working():
    tb = vd.NicTestbench(vd.RtlNic(queues=2, data_width=512))
    udp = bytes(Ether() / IP() / UDP() / (b"x" * 3000))
    assert tb.send(udp, tso_mss=1000)            # posted; the NIC completes it with an error
    tb.run_until_idle()
    assert tb.wire_frames() == []
    assert tb.nic_stats()["tx_errors"] == 1
    ok = bytes(Ether() / IP() / TCP() / (b"y" * 3000))
    assert tb.send(ok, tso_mss=1000)
    tb.run_until_idle()
    assert len(tb.wire_frames()) == 3
