import shutil
import subprocess

import pytest

import veridian as vd


def make_pair(nic_a, nic_b, seed=1, pcap=None, rate_gbps=100, latency_ns=500):
    sim = vd.Simulation(seed=seed)
    a = sim.add_host("a", nic=nic_a)
    b = sim.add_host("b", nic=nic_b)
    link = sim.connect(a, b, rate_gbps=rate_gbps, latency_ns=latency_ns)
    a.add_address("10.0.0.1/24")
    b.add_address("10.0.0.2/24")
    if pcap:
        sim.capture(link, str(pcap))
    return sim, a, b, link


NIC_KINDS = {
    "rtl512": lambda: vd.RtlNic(queues=4, data_width=512),
    "rtl64": lambda: vd.RtlNic(queues=4, data_width=64, clock_mhz=250),
    "soft": lambda: vd.SoftNic(),
}


def tshark_fields(pcap, *fields, extra=()):
    """Dissect a pcap with tshark, IPv4/UDP checksum validation on; one tuple per frame."""
    exe = shutil.which("tshark")
    if exe is None:
        pytest.fail("tshark is not installed (scripts/setup.sh installs it)")
    cmd = [exe, "-r", str(pcap), "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "fields"]
    cmd += list(extra)
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [tuple(line.split("\t")) for line in out.stdout.splitlines()]
