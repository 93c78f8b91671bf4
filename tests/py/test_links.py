"""The interface table: host.links() has the shape of Linux's
`ip -j -s -d addr show` (checked against the kernel in a namespace of the
test's own), its counters match the wire, and set_link downs an interface
as `ip link set dev X down` does."""
import json
import os
import shutil
import subprocess

import pytest

import veridian as vd
from conftest import make_pair


def _linux_links(setup):
    """`ip -j -s -d addr show` in a fresh namespace after running `setup` commands in it."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to ask Linux")
    ns = f"vdlinks{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        for c in setup:
            subprocess.run(["ip", "-n", ns, *c.split()], check=True)
        out = subprocess.run(["ip", "-n", ns, "-j", "-s", "-d", "addr", "show"], check=True, capture_output=True,
                             text=True, timeout=30).stdout
        return {l["ifname"]: l for l in json.loads(out)}
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _ours():
    sim, a, b, link = make_pair(vd.SoftNic(), vd.SoftNic())
    return sim, a, b, link, {l["ifname"]: l for l in a.links()}


def test_links_have_linux_keys_and_lo_matches_linux():
    linux = _linux_links(["link set lo up", "link add v0 type veth peer name v1", "addr add 10.0.0.1/24 dev v0",
                          "link set v0 up", "link set v1 up"])
    _, a, _, _, ours = _ours()
    assert list(ours) == ["lo", "eth0"]
    for mine, theirs in ((ours["lo"], linux["lo"]), (ours["eth0"], linux["v0"])):
        assert set(mine) - set(theirs) == set(), mine["ifname"]
        assert set(mine["stats64"]["rx"]) <= set(theirs["stats64"]["rx"])
        for e in mine["addr_info"]:
            assert set(e) <= {k for t in theirs["addr_info"] for k in t} | {"tentative"}, e
    lo, llo = ours["lo"], linux["lo"]
    for k in ("flags", "operstate", "link_type", "address", "broadcast"):
        assert lo[k] == llo[k], k
    v4 = lambda l: [(e["local"], e["prefixlen"], e["scope"]) for e in l["addr_info"] if e["family"] == "inet"]
    assert v4(lo) == v4(llo) == [("127.0.0.1", 8, "host")]
    assert [e["local"] for e in lo["addr_info"] if e["family"] == "inet6"] == ["::1"]
    eth, v0 = ours["eth0"], linux["v0"]
    assert eth["flags"] == v0["flags"] == ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"]
    assert eth["operstate"] == v0["operstate"] == "UP"
    assert v4(eth) == [("10.0.0.1", 24, "global")] and v4(v0) == v4(eth)
    assert eth["address"] == a.mac and eth["linkinfo"]["info_kind"] == "soft"


def test_link_down_looks_like_linux_and_stops_traffic():
    linux = _linux_links(["link add v0 type veth peer name v1", "link set v1 up"])
    sim, a, b, link, _ = _ours()
    assert a.ping("10.0.0.2")[0] is not None
    a.set_link("eth0", False)
    eth = {l["ifname"]: l for l in a.links()}["eth0"]
    assert eth["flags"] == linux["v0"]["flags"] == ["BROADCAST", "MULTICAST"]
    assert eth["operstate"] == linux["v0"]["operstate"] == "DOWN"
    frames = link.stats()["a->b"]["frames"]
    with pytest.raises(OSError):
        a.udp_socket().sendto(b"x", ("10.0.0.2", 9))
    assert b.ping("10.0.0.1", timeout_ms=1) == [None]  # B's request arrives and is dropped
    assert link.stats()["a->b"]["frames"] == frames
    eth = {l["ifname"]: l for l in a.links()}["eth0"]
    assert eth["stats64"]["rx"]["dropped"] == 1 and a.stats()["drops"]["eth.link_down"] == 1
    a.set_link(a.ifindex_of("eth0"), True)
    assert a.ping("10.0.0.2")[0] is not None
    with pytest.raises(ValueError, match="lo stays up"):
        a.set_link("lo", False)
    with pytest.raises(ValueError, match="no interface called 'eth9'"):
        a.set_link("eth9", False)


def test_counters_match_the_wire_and_lo_counts_its_own():
    sim, a, b, link, _ = _ours()
    assert None not in a.ping("10.0.0.2", count=3, size=100)
    assert None not in a.ping("127.0.0.1", count=2, size=100)
    ours = {l["ifname"]: l for l in a.links()}
    wire = link.stats()
    assert ours["eth0"]["stats64"]["tx"]["packets"] == wire["a->b"]["frames"]
    assert ours["eth0"]["stats64"]["rx"]["packets"] == wire["b->a"]["frames"]
    lo = ours["lo"]["stats64"]
    # Two requests and two replies, each out of lo and back in: 14 + 20 + 8 + 100 bytes.
    assert lo["tx"]["packets"] == lo["rx"]["packets"] == 4
    assert lo["tx"]["bytes"] == lo["rx"]["bytes"] == 4 * 142
