"""Network namespaces of a host from Python: each behaves like a host (its
own addresses, routes, sockets, stats), veth pairs join them, interfaces
move between them, deleting one closes its sockets and returns its buffers.
What Linux can show (a veth pair between two namespaces: flags, operstate,
carrier following the peer, the peer going with a deleted namespace) is
compared with Linux itself."""

import json
import os
import random
import shutil
import subprocess
import time

import pytest

import veridian as vd


def _pump(sim, sender, receiver, data, step_ns=20_000, limit_ns=10e9):
    """Moves data over a connection with one thread driving both ends:
    queue what fits, run a little, read what came."""
    got = bytearray()
    off = 0
    end = sim.now_ns + limit_ns
    while len(got) < len(data) and sim.now_ns < end:
        if off < len(data):
            off += sender.send(data[off:off + (256 << 10)])
        sim.run_for(step_ns)
        while True:
            try:
                chunk = receiver.recv(1 << 20, timeout_ns=0)
            except BlockingIOError:
                break
            if not chunk:
                break
            got += chunk
    return bytes(got)


def _veth_host():
    """Host h; namespace blue joined to the root by vb0 (10.1.0.1/24) and
    blue's eth0 (10.1.0.2/24)."""
    sim = vd.Simulation(seed=3)
    h = sim.add_host("h")
    blue = h.add_namespace("blue")
    root_if, blue_if = h.add_veth("vb0", ("eth0", blue))
    h.add_address("10.1.0.1/24", ifindex=root_if)
    blue.add_address("10.1.0.2/24")  # its default interface: the first that is not lo
    return sim, h, blue


def test_a_namespace_behaves_like_a_host():
    sim, h, blue = _veth_host()
    assert list(h.namespaces) == ["blue"] and h.namespace("blue") is blue
    assert [l["ifname"] for l in blue.links()] == ["lo", "eth0"]
    assert [l["ifname"] for l in h.links()] == ["lo", "eth0", "vb0"]
    assert blue.links()[1]["linkinfo"]["info_kind"] == "veth"
    assert h.ping("10.1.0.2")[0] is not None
    assert blue.ping("10.1.0.1")[0] is not None
    assert blue.ping("127.0.0.1")[0] is not None
    # TCP both ways, through the Python socket API.
    lst = blue.tcp_socket()
    lst.bind(("0.0.0.0", 80))
    lst.listen()
    c = h.tcp_socket()
    c.connect(("10.1.0.2", 80))
    s, peer = lst.accept(timeout_ns=1e6)
    assert peer[0] == "10.1.0.1"
    data = random.Random(1).randbytes(2 << 20)
    assert _pump(sim, c, s, data) == data
    assert _pump(sim, s, c, data[:300_000]) == data[:300_000]
    # Its statistics are its own: blue's TCP saw the segments, the routes are blue's.
    assert blue.stats()["layers"]["tcp"]["rx_packets"] > 0
    assert {r["prefix"] for r in blue.routes()} == {"10.1.0.0/24", "127.0.0.0/8"}
    assert "10.1.0.0/24" in {r["prefix"] for r in h.routes()}


def test_the_same_address_in_two_namespaces_with_no_crosstalk():
    sim = vd.Simulation(seed=4)
    h = sim.add_host("h")
    one, two = h.add_namespace("one"), h.add_namespace("two")
    p1, p2 = h.add_namespace("p1"), h.add_namespace("p2")
    h.add_veth(("eth0", one), ("eth0", p1))
    h.add_veth(("eth0", two), ("eth0", p2))
    for ns in (one, two):
        ns.add_address("10.0.0.1/24")
    for ns in (p1, p2):
        ns.add_address("10.0.0.2/24")
    socks = {}
    for ns in (one, two):  # the same address and port in both namespaces
        s = ns.udp_socket()
        s.bind(("10.0.0.1", 5000))
        socks[ns.name] = s
    tx = p1.udp_socket()
    tx.sendto(b"to one", ("10.0.0.1", 5000))
    data, src = socks["one"].recvfrom(timeout_ns=1e6)
    assert data == b"to one" and src[0] == "10.0.0.2"
    with pytest.raises(BlockingIOError):
        socks["two"].recvfrom(timeout_ns=0)
    assert p2.ping("10.0.0.1")[0] is not None
    # two answered p2's echo; one never saw it.
    icmp = lambda ns: ns.stats()["layers"].get("icmp", {}).get("rx_packets", 0)
    assert icmp(two) >= 1 and icmp(one) == 0


def test_settings_are_per_namespace():
    sim = vd.Simulation()
    h = sim.add_host("h")
    r = h.add_namespace("r", ip_forward=True, ip_default_ttl=9, tcp_syncookies=False,
                        tcp_congestion_control="reno", tcp_keepalive_time=60)
    left, right = h.add_namespace("left"), h.add_namespace("right")
    h.add_veth(("eth0", left), ("l", r))
    h.add_veth(("eth0", right), ("rr", r))
    left.add_address("10.5.1.2/24")
    right.add_address("10.5.2.2/24")
    r.add_address_on(r.ifindex_of("l"), "10.5.1.1/24")
    r.add_address_on(r.ifindex_of("rr"), "10.5.2.1/24")
    left.add_route("0.0.0.0/0", via="10.5.1.1")
    right.add_route("0.0.0.0/0", via="10.5.2.1")
    # r forwards (its own ip_forward); the root namespace does not.
    assert left.ping("10.5.2.2")[0] is not None
    assert r.stats()["events"].get("ipv4.forwarded", 0) >= 2
    with pytest.raises(TypeError, match="unknown setting 'tcp_nodelay'"):
        h.add_namespace("x", tcp_nodelay=True)
    with pytest.raises(ValueError, match="ip_default_ttl must be 1..255"):
        h.add_namespace("x", ip_default_ttl=0)
    with pytest.raises(ValueError, match="cubic"):
        h.add_namespace("x", tcp_congestion_control="bbr")
    assert "x" not in h.namespaces


def test_deleting_a_namespace_mid_transfer_closes_its_sockets_and_leaks_nothing():
    sim, h, blue = _veth_host()
    lst = blue.tcp_socket()
    lst.bind(("0.0.0.0", 80))
    lst.listen()
    c = h.tcp_socket()
    c.connect(("10.1.0.2", 80))
    s, _ = lst.accept(timeout_ns=1e6)
    c.send(b"x" * 200_000)
    sim.run_for(30_000)
    pool = h.veth_pool_stats()
    assert pool["available"] < pool["capacity"]  # buffers sit in blue's socket and in flight
    blue.delete()
    assert blue.deleted and h.namespaces == {}
    assert [l["ifname"] for l in h.links()] == ["lo", "eth0"]  # the root's end went too
    with pytest.raises(RuntimeError, match="deleted"):
        blue.links()
    with pytest.raises(OSError):
        s.recv(100, timeout_ns=0)
    # The root's side times out against a peer that is gone; nothing is held.
    c.close()
    sim.run_for(1e9)
    pool = h.veth_pool_stats()
    assert pool["available"] == pool["capacity"] and pool["allocs"] == pool["frees"]


def test_moving_a_nic_into_a_namespace_and_back():
    sim = vd.Simulation()
    a, b = sim.add_host("a"), sim.add_host("b")
    sim.connect(a, b)
    b.add_address("10.0.0.2/24")
    blue = a.add_namespace("blue")
    idx = a.move("eth0", blue)
    assert a.nic.ifindex == idx and [l["ifname"] for l in a.links()] == ["lo"]
    blue.add_address("10.0.0.1/24")
    assert blue.ping("10.0.0.2")[0] is not None
    a.delete_namespace("blue")
    assert [l["ifname"] for l in a.links()] == ["lo", "eth0"]
    assert a.links()[1]["addr_info"] == []  # home with no addresses
    a.add_address("10.0.0.1/24")
    assert a.ping("10.0.0.2")[0] is not None


def test_bad_requests_are_clear_errors_and_change_nothing():
    sim = vd.Simulation()
    h = sim.add_host("h")
    other = sim.add_host("o")
    blue = h.add_namespace("blue")
    with pytest.raises(ValueError, match="has a namespace 'blue'"):
        h.add_namespace("blue")
    with pytest.raises(ValueError, match="bad namespace name"):
        h.add_namespace("no spaces")
    with pytest.raises(KeyError):
        h.namespace("green")
    with pytest.raises(ValueError, match="root namespace"):
        h.delete_namespace(None)
    with pytest.raises(ValueError, match="both ends are called 'v'"):
        h.add_veth(("v", blue), ("v", blue))
    with pytest.raises(ValueError, match="has an interface called 'eth0'"):
        h.add_veth("eth0", ("v1", blue))
    with pytest.raises(KeyError):
        h.add_veth("v0", ("v1", "green"))
    with pytest.raises(ValueError, match="belongs to host 'o'"):
        h.add_veth("v0", ("v1", other.add_namespace("x")))
    assert h.veth_pool_stats() is None and [l["ifname"] for l in h.links()] == ["lo", "eth0"]
    with pytest.raises(ValueError, match="lo cannot leave"):
        h.move("lo", blue)
    with pytest.raises(KeyError, match="no interface 'eth7'"):
        h.move("eth7", blue)
    with pytest.raises(ValueError, match="is a NIC"):
        h.delete_link("eth0")
    with pytest.raises(TypeError):
        h.move(3, blue)


# ---------------------------------------------------------------- Linux
def _linux_veth_pair(after=()):
    """Two Linux namespaces joined by veth va (in A, 10.7.0.1/24) and vb (in
    B, 10.7.0.2/24), both up; then the `after` steps as (namespace,
    command). Returns ({A's links}, {B's links}, ping A->B worked)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to ask Linux")
    a, b = f"vdnsA{os.getpid()}", f"vdnsB{os.getpid()}"
    run = lambda *c: subprocess.run(list(c), check=True, capture_output=True, text=True, timeout=30)
    run("ip", "netns", "add", a)
    run("ip", "netns", "add", b)
    try:
        run("ip", "-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b)
        run("ip", "-n", a, "addr", "add", "10.7.0.1/24", "dev", "va")
        run("ip", "-n", b, "addr", "add", "10.7.0.2/24", "dev", "vb")
        for ns, dev in ((a, "va"), (b, "vb"), (a, "lo"), (b, "lo")):
            run("ip", "-n", ns, "link", "set", dev, "up")
        links = lambda ns: {l["ifname"]: l for l in json.loads(run("ip", "-n", ns, "-j", "-d", "addr", "show").stdout)}
        # Linux reports carrier changes through linkwatch, up to a second later.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (links(a)["va"]["operstate"], links(b)["vb"]["operstate"]) != ("UP", "UP"):
            time.sleep(0.05)
        ping = subprocess.run(["ip", "netns", "exec", a, "ping", "-c", "1", "-W", "2", "10.7.0.2"],
                              capture_output=True, timeout=30).returncode == 0
        for where, cmd in after:
            if cmd == "delete":
                run("ip", "netns", "del", b)
            else:
                run("ip", "-n", {"A": a, "B": b}[where], *cmd.split())
        if after:
            time.sleep(1.2)  # linkwatch's longest delay
        la = links(a)
        lb = links(b) if all(c != "delete" for _, c in after) else {}
        return la, lb, ping
    finally:
        subprocess.run(["ip", "netns", "del", a], capture_output=True)
        subprocess.run(["ip", "netns", "del", b], capture_output=True)


def _our_veth_pair():
    sim = vd.Simulation()
    h = sim.add_host("h")
    a, b = h.add_namespace("A"), h.add_namespace("B")
    h.add_veth(("va", a), ("vb", b))
    a.add_address("10.7.0.1/24")
    b.add_address("10.7.0.2/24")
    return sim, h, a, b


_SAME = ("flags", "operstate", "mtu", "link_type", "broadcast")


def test_a_veth_pair_between_namespaces_looks_like_linux():
    la, lb, linux_ping = _linux_veth_pair()
    _, _, a, b = _our_veth_pair()
    ours_a = {l["ifname"]: l for l in a.links()}
    ours_b = {l["ifname"]: l for l in b.links()}
    assert list(ours_a) == list(la) == ["lo", "va"] and list(ours_b) == list(lb) == ["lo", "vb"]
    for mine, theirs in ((ours_a["va"], la["va"]), (ours_b["vb"], lb["vb"])):
        for k in _SAME:
            assert mine[k] == theirs[k], (k, mine[k], theirs[k])
        assert mine["linkinfo"]["info_kind"] == theirs["linkinfo"]["info_kind"] == "veth"
    assert linux_ping and a.ping("10.7.0.2")[0] is not None


def test_carrier_follows_the_peer_as_in_linux():
    la, _, _ = _linux_veth_pair(after=[("B", "link set vb down")])
    _, _, a, b = _our_veth_pair()
    b.set_link("vb", False)
    va = {l["ifname"]: l for l in a.links()}["va"]
    for k in _SAME:
        assert va[k] == la["va"][k], (k, va[k], la["va"][k])
    assert "NO-CARRIER" in va["flags"] and va["operstate"] == "DOWN"
    assert a.ping("10.7.0.2", timeout_ms=10)[0] is None


def test_deleting_a_namespace_takes_the_peer_end_as_in_linux():
    la, _, _ = _linux_veth_pair(after=[("B", "delete")])
    _, h, a, b = _our_veth_pair()
    b.delete()
    assert list({l["ifname"]: l for l in a.links()}) == list(la) == ["lo"]


def test_a_container_host_with_a_bridge():
    """NIC + br0 + one veth per container namespace, and a peer host on the
    NIC's cable: every container reaches the wire, the others and br0."""
    sim = vd.Simulation(seed=5)
    h, peer = sim.add_host("h"), sim.add_host("peer")
    sim.connect(h, peer)
    peer.add_address("10.0.0.2/24")
    containers = []
    for k in range(3):
        ns = h.add_namespace(f"c{k}")
        h.add_veth(f"veth{k}", ("eth0", ns))
        ns.add_address(f"10.0.0.{10 + k}/24")
        containers.append(ns)
    br = h.add_bridge("br0", ports=["eth0", "veth0", "veth1", "veth2"])
    h.add_address("10.0.0.1/24", ifindex=br)
    assert [l["ifname"] for l in h.links()] == ["lo", "br0"]
    assert h.links()[1]["linkinfo"]["info_kind"] == "bridge"
    for ns in containers:
        assert ns.ping("10.0.0.2")[0] is not None
    assert peer.ping("10.0.0.11")[0] is not None
    assert containers[0].ping("10.0.0.12")[0] is not None
    assert h.ping("10.0.0.10")[0] is not None
    info = h.bridge_info("br0")
    assert info["ports"] == ["eth0", "veth0", "veth1", "veth2"]
    where = {e["mac"]: e["ifname"] for e in info["fdb"]}
    assert where[peer.mac] == "eth0"
    assert where[containers[1].links()[1]["address"]] == "veth1"
    assert info["stats"]["forwarded"] > 0
    # A container that goes takes its port with it.
    containers[1].delete()
    assert h.bridge_info("br0")["ports"] == ["eth0", "veth0", "veth2"]
    assert containers[2].ping("10.0.0.2")[0] is not None
    with pytest.raises(ValueError, match="port of 'br0' already"):
        h.set_master("veth0", "br0")
    assert h.set_nomaster("eth0") == h.nic.ifindex
    assert containers[2].ping("10.0.0.2", timeout_ms=10)[0] is None


def test_a_bridge_with_a_port_looks_like_linux():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to ask Linux")
    ns = f"vdbr{os.getpid()}"
    run = lambda *c: subprocess.run(list(c), check=True, capture_output=True, text=True, timeout=30)
    run("ip", "netns", "add", ns)
    try:
        for c in ("link add br0 type bridge", "link add va type veth peer name vb", "link set va master br0",
                  "link set va up", "link set vb up", "link set br0 up"):
            run("ip", "-n", ns, *c.split())
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            linux = json.loads(run("ip", "-n", ns, "-j", "-d", "link", "show", "br0").stdout)[0]
            if linux["operstate"] == "UP":
                break
            time.sleep(0.05)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    sim = vd.Simulation()
    h = sim.add_host("h")
    h.add_veth("va", "vb")
    h.add_bridge("br0", ports=["va"])
    ours = {l["ifname"]: l for l in h.links()}["br0"]
    for k in _SAME:
        assert ours[k] == linux[k], (k, ours[k], linux[k])
    assert ours["linkinfo"]["info_kind"] == linux["linkinfo"]["info_kind"] == "bridge"
