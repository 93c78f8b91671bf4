"""802.1Q VLAN sub-interfaces between two hosts, RtlNic and SoftNic."""
import pytest

from conftest import NIC_KINDS, make_pair, tshark_fields


@pytest.mark.parametrize("kind", ["rtl512", "soft"])
def test_vlan_subinterfaces_talk_tagged(kind, tmp_path):
    pcap = tmp_path / "vlan.pcap"
    sim, a, b, _ = make_pair(NIC_KINDS["soft"](), NIC_KINDS[kind](), pcap=pcap)
    va = a.add_vlan(10)
    vb = b.add_vlan(10)
    a.add_address_on(va, "192.168.10.1/24")
    b.add_address_on(vb, "192.168.10.2/24")
    b.add_vlan(20)  # present but unused: VLAN 10 traffic must not reach it
    assert a.ping("192.168.10.2", count=2) != [None, None]
    s = b.udp_socket()
    s.bind(("192.168.10.2", 7))
    a.udp_socket().sendto(b"tagged" * 300, ("192.168.10.2", 7))   # 1800 bytes: fragmented on the VLAN
    data, (src, _) = s.recvfrom(timeout_ns=1_000_000)
    assert data == b"tagged" * 300 and src == "192.168.10.1"
    # Untagged traffic still works beside it.
    assert a.ping("10.0.0.2")[0] is not None
    sim.flush()
    rows = tshark_fields(pcap, "vlan.id", "ip.src", "ip.dst", "_ws.expert.message")
    tagged = [r for r in rows if r[0] == "10"]
    assert len(tagged) >= 6, rows   # ARP both ways, 2 pings both ways, fragments
    assert all(r[0] in ("", "10") for r in rows), rows
    for r in rows:
        assert "Malformed" not in r[-1] and "Bad checksum" not in r[-1], r
    assert b.stats()["drops"].get("eth.unknown_vlan", 0) == 0
