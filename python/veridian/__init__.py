"""Veridian: a hardware/software co-design testbed for NIC offloads.

    import veridian as vd
    sim = vd.Simulation(seed=1)
    a = sim.add_host("a", nic=vd.RtlNic(queues=4, data_width=512))
    b = sim.add_host("b", nic=vd.SoftNic())
    link = sim.connect(a, b, rate_gbps=100, latency_ns=500)
    a.add_address("10.0.0.1/24"); b.add_address("10.0.0.2/24")
    sim.capture(link, "run.pcap")
    rtts = a.ping("10.0.0.2", count=3)
    srv = b.udp_socket(); srv.bind(("10.0.0.2", 7000))
    cli = a.udp_socket(); cli.sendto(b"hello", ("10.0.0.2", 7000))
    sim.run_for(ns=10_000)
    data, addr = srv.recvfrom()

All time is simulated (virtual picoseconds); nothing here reads the wall
clock, and no packet leaves the process, unless Simulation.attach_tap puts a
host on a Linux TAP device (real-time mode, docs/tap.md). Long runs happen in C++: each call
below is one step, never one clock cycle.

Hosts made with cpus=vd.Cpus(cores=4, ghz=3.0) spend virtual time on their
work (docs/cpu.md); host.cpu_stats() reports each core.

The package is split by area: nics (RtlNic, SoftNic), cpus, sockets, host,
topology (LinkFaults, Link, Switch), simulation and testbench; this file only
re-exports them. Command-line tools are in veridian.tools (docs/python.md).
"""

from ._veridian import AbiMismatchError, DmaConfig
from . import abi
from .nics import RtlNic, SoftNic, rtl_widths
from .sockets import BLOCKING_LIMIT_S, LocalSocket, RawSocket, TcpSocket, UdpSocket
from .cpus import Cpus, default_cost_table
from .host import Host
from .topology import Link, LinkFaults, Switch
from .simulation import Simulation
from .testbench import NicTestbench

__all__ = [
    "Simulation", "Host", "RtlNic", "SoftNic", "Link", "UdpSocket", "TcpSocket", "RawSocket", "LocalSocket",
    "DmaConfig",
    "AbiMismatchError", "abi", "rtl_widths", "NicTestbench", "LinkFaults", "Switch", "Cpus", "default_cost_table",
]
