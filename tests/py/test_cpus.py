"""Host CPUs in virtual time (docs/cpu.md): what offloads, cores and interrupt
moderation buy when host work takes time. Everything asserted is virtual time
or a count, so it is deterministic; ratios are the ones the model implies."""

import pytest

import veridian as vd
from veridian.cpus import utilisation


def bulk(nic, cores=1, flows=1, nbytes=8 << 20, buf=512 << 10, seed=1, pcap=None, ghz=3.0, rate_gbps=100):
    """`flows` TCP flows from a to b, each application on core k % cores of
    its host; returns (Gb/s in virtual time, a's and b's cpu_stats before
    and after, the window in ns)."""
    sim = vd.Simulation(seed=seed)
    a = sim.add_host("a", nic=nic(), cpus=vd.Cpus(cores=cores, ghz=ghz))
    b = sim.add_host("b", nic=nic(), cpus=vd.Cpus(cores=cores, ghz=ghz))
    link = sim.connect(a, b, rate_gbps=rate_gbps, latency_ns=500)
    if pcap:
        sim.capture(link, str(pcap))
    a.add_address("10.0.0.1/24")
    b.add_address("10.0.0.2/24")
    lst = b.tcp_socket()
    lst.set_buffers(buf, buf)
    lst.bind(("10.0.0.2", 5001))
    lst.listen(flows + 4)
    pairs = []
    for k in range(flows):
        c = a.tcp_socket()
        c.set_buffers(buf, buf)
        c.cpu = k % cores
        c.connect(("10.0.0.2", 5001))
        s, _ = lst.accept(timeout_ns=1e6)
        s.cpu = k % cores
        pairs.append([c, s, 0, 0])
    chunk = b"\x5a" * (64 << 10)
    before = (a.cpu_stats(), b.cpu_stats())
    t0 = sim.now_ns
    while any(p[3] < nbytes for p in pairs):
        for p in pairs:
            while p[2] < nbytes and p[0]._s.writable > 0:
                p[2] += p[0]._s.send(chunk[:nbytes - p[2]])
        sim.run_for(us=5)
        for p in pairs:
            while p[1]._s.readable > 0:
                p[3] += len(p[1]._s.recv(1 << 20))
        assert sim.now_ns - t0 < 2e9, "transfer did not finish in 2 s of virtual time"
    window = sim.now_ns - t0
    return nbytes * flows * 8 / window, before, (a.cpu_stats(), b.cpu_stats()), window


def soft(offload=True, queues=1, irq_frames=64, mtu=1500, irq_delay_ns=4000):
    return lambda: vd.SoftNic(queues=queues, mtu=mtu, tx_csum=offload, tso=offload, rx_csum=offload,
                              irq_frames=irq_frames, irq_delay_ns=irq_delay_ns if irq_frames > 1 else 0)


def test_one_core_is_cpu_bound_and_offloads_raise_its_throughput():
    off, _, (a_off, b_off), _ = bulk(soft(offload=False))
    on, _, (a_on, b_on), _ = bulk(soft(offload=True))
    free, _, _, _ = bulk(soft(offload=False), ghz=1000.0)  # a CPU so fast it is never the limit
    assert off < 20, f"one 3 GHz core without offloads should be far below 100 Gb/s, got {off:.1f}"
    assert free > 5 * off
    assert on > 1.3 * off, (on, off)
    # What the offloads took away: software checksums and per-segment sends.
    sender_off, sender_on = a_off["cores"][0]["work_done"], a_on["cores"][0]["work_done"]
    assert sender_off["csum_bytes"] > 8 << 20 and sender_on["csum_bytes"] < 1 << 16
    assert sender_off["tcp_tx"] > 20 * sender_on["tcp_tx"]
    # ... and with them on, the receiver (no receive coalescing yet) is the limit.
    assert b_on["cores"][0]["busy_ns"] > 2 * a_on["cores"][0]["busy_ns"]


def test_the_rtl_nic_gives_the_same_shape():
    def rtl(offload):
        return lambda: vd.RtlNic(queues=1, tx_csum=offload, tso=offload, rx_csum=offload, irq_frames=64,
                                 irq_delay_ns=4000)
    off, _, _, _ = bulk(rtl(False), nbytes=2 << 20)
    on, _, _, _ = bulk(rtl(True), nbytes=2 << 20)
    assert off < 20 and on > 1.3 * off, (on, off)


def test_rss_spreads_flows_and_throughput_scales_with_cores():
    # 16 flows: with 8, the sequential ephemeral ports hash onto only 2 of
    # the 4 queues under b's key, as Toeplitz hashing does for some keys.
    one, _, _, _ = bulk(soft(queues=4), cores=1, flows=16, nbytes=512 << 10, buf=64 << 10)
    four, before, after, window = bulk(soft(queues=4), cores=4, flows=16, nbytes=512 << 10, buf=64 << 10)
    assert four > 2.0 * one, (one, four)
    # Every receive core did a share of the work.
    util_b = utilisation(before[1], after[1], window)
    assert all(u > 0.1 for u in util_b), util_b
    irq_items = [c["work_done"]["irq"] for c in after[1]["cores"]]
    assert all(n > 0 for n in irq_items), irq_items


def test_interrupt_moderation_lowers_interrupt_time():
    # On a 5 Gb/s link the receiver keeps up, so without moderation nearly
    # every frame is an interrupt of its own. (A saturated core polls many
    # frames per interrupt anyway, as NAPI does.)
    _, b0, b1, _ = bulk(soft(irq_frames=1), nbytes=2 << 20, rate_gbps=5)
    _, m0, m1, _ = bulk(soft(irq_frames=16, irq_delay_ns=20000), nbytes=2 << 20, rate_gbps=5)
    per_frame = b1[1]["cores"][0]["work_done"]["irq"] - b0[1]["cores"][0]["work_done"]["irq"]
    moderated = m1[1]["cores"][0]["work_done"]["irq"] - m0[1]["cores"][0]["work_done"]["irq"]
    assert moderated * 4 < per_frame, (moderated, per_frame)
    share = lambda s0, s1: ((s1["cores"][0]["cycles_by_work"]["irq"] - s0["cores"][0]["cycles_by_work"]["irq"]) /
                            (s1["cores"][0]["busy_ns"] - s0["cores"][0]["busy_ns"]))
    assert share(m0[1], m1[1]) * 2 < share(b0[1], b1[1])


def test_same_seed_and_table_repeat_exactly(tmp_path):
    r1 = bulk(soft(offload=False), nbytes=1 << 20, pcap=tmp_path / "1.pcap")
    r2 = bulk(soft(offload=False), nbytes=1 << 20, pcap=tmp_path / "2.pcap")
    assert r1 == r2
    assert (tmp_path / "1.pcap").read_bytes() == (tmp_path / "2.pcap").read_bytes()


def test_a_host_without_cpus_has_none():
    sim = vd.Simulation()
    h = sim.add_host("a")
    assert h.cpu_stats() is None
    c = sim.add_host("c", cpus=vd.Cpus(cores=2))
    st = c.cpu_stats()
    assert st["ghz"] == 3.0 and [k["core"] for k in st["cores"]] == [0, 1]
    assert set(st["cores"][0]["busy_ns_by_use"]) == {"irq", "timer", "app"}


def test_bad_configurations_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="cores must be 1..1024"):
        vd.Cpus(cores=0)
    with pytest.raises(ValueError, match="ghz must be > 0"):
        vd.Cpus(ghz=0)
    with pytest.raises(ValueError, match=r"irq_affinity\[0\] names core 7 of 4"):
        vd.Cpus(cores=4, irq_affinity=[[0, 7]])
    with pytest.raises(ValueError, match="app_core 2 is not one of the 2 cores"):
        vd.Cpus(cores=2, app_core=2)
    bad = tmp_path / "costs.toml"
    bad.write_text("[cycles]\nirq = lots\n")
    with pytest.raises(ValueError, match=r"costs.toml:2:7: `lots` is not a number"):
        vd.Cpus(table=bad)
    with pytest.raises(ValueError, match="has no `timer`"):
        vd.Cpus(table={"irq": 1.0})
    with pytest.raises(TypeError):
        vd.Simulation().add_host("a", cpus="4 cores")
    with pytest.raises(ValueError):
        vd.Simulation().add_host("a", cpus=vd.Cpus()).tcp_socket().cpu = -5


def test_a_cost_table_given_as_a_mapping_is_used():
    table = dict(vd.default_cost_table()["cycles"])
    slow = {k: v * 10 for k, v in table.items()}
    assert vd.Cpus(table=slow).table["cycles"]["tcp_rx"] == pytest.approx(10 * table["tcp_rx"])
