"""Line-rate benchmark of the RTL NIC: what fraction of 100 GbE it sustains,
TX and RX, per frame size, with the DMA model set to PCIe Gen3 x16 and Gen4
x16. Numbers come from simulated time and the model's cycle counter, never
from the wall clock.

    /usr/bin/python3 -m veridian.tools.linerate [--frames N] [--width 512] [--out results.txt]

Frame sizes count the 4-byte FCS (a "64-byte frame" carries 60 bytes), and
the wire adds 8 bytes of preamble and 12 of inter-frame gap, so 100 GbE
carries 148.8 Mframes/s at 64 bytes.

TX: N UDP frames (all offloads on: IPv4 header and UDP checksum by the NIC)
are posted at once on 4 queues; the rate is measured between the first and
the last frame leaving the wire. RX: N frames arrive back to back at 100 Gb/s
with RSS on 4 queues and RX checksum verification, after the NIC has had
idle time to prefetch descriptors; the fraction is the share delivered to
host memory (the rest are dropped and counted by the NIC)."""

from __future__ import annotations

import argparse
import struct
import sys
import time

import veridian as vd

SIZES = [64, 128, 256, 512, 1024, 1518, 9000]
LINE_GBPS = 100.0
WIRE_EXTRA = 20  # preamble + SFD + inter-frame gap; the FCS is inside the size
KEY = bytes(range(1, 41))


def _udp_frame(size: int, seq: int) -> bytes:
    """An Ethernet/IPv4/UDP frame of `size` bytes with FCS (size - 4 bytes here),
    distinct ports per frame so RSS spreads them; checksums left for the NIC."""
    n = size - 4
    ip_len = n - 14
    udp_len = ip_len - 20
    eth = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, seq & 0xFFFF, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    udp = struct.pack("!HHHH", 1024 + seq % 4096, 7000, udp_len, 0)
    payload = bytes((seq + i) & 0xFF for i in range(udp_len - 8))
    return eth + ip + udp + payload


def _nic(dma: str, width: int, queues: int = 4):
    return vd.RtlNic(queues=queues, data_width=width, dma=dma, mtu=9000, ring_log2=10)


def tx_run(size: int, dma: str, frames: int, width: int) -> dict:
    tb = vd.NicTestbench(_nic(dma, width), rate_gbps=LINE_GBPS)
    c0 = tb.cycles()
    for i in range(frames):
        if not tb.send(_udp_frame(size, i), csum=True, queue=i % 4):
            raise RuntimeError(f"TX ring refused frame {i}")
    tb.run_until_idle(timeout_us=1e6)
    cycles = tb.cycles() - c0
    wire = tb.wire_frames()
    if len(wire) != frames:
        raise RuntimeError(f"{len(wire)} of {frames} frames reached the wire")
    span_ns = wire[-1].time_ns - wire[0].time_ns
    bits = (frames - 1) * (size + WIRE_EXTRA) * 8
    gbps = bits / span_ns if span_ns > 0 else float("inf")
    return {"gbps": gbps, "frac": min(gbps / LINE_GBPS, 1.0), "cycles_per_frame": cycles / frames}


def _tcp_super_frame(payload: int) -> bytes:
    """Ethernet/IPv4/TCP (20-byte header) carrying `payload` bytes, for TSO."""
    eth = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + payload, 1, 0, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x18, 65535, 0, 0)
    return eth + ip + tcp + bytes(i & 0xFF for i in range(payload))


def tso_run(dma: str, width: int, mss: int = 1460) -> dict:
    """One 64 KiB TSO send (LEN 65535): NIC cycles from the doorbell to the
    last segment on the wire, and the rate that is against 100 GbE."""
    tb = vd.NicTestbench(_nic(dma, width), rate_gbps=LINE_GBPS)
    frame = _tcp_super_frame(65535 - 54)
    c0 = tb.cycles()
    t0 = tb.now_ns
    if not tb.send(frame, tso_mss=mss):
        raise RuntimeError("TSO send refused")
    tb.run_until_idle(timeout_us=1e6)
    wire = tb.wire_frames()
    segs = len(wire)
    bits = sum(len(f.data) + 4 + WIRE_EXTRA for f in wire) * 8
    span = wire[-1].time_ns - t0
    return {"cycles": tb.cycles() - c0, "segments": segs, "frac": min(bits / span / LINE_GBPS, 1.0)}


def rx_run(size: int, dma: str, frames: int, width: int) -> dict:
    tb = vd.NicTestbench(_nic(dma, width), rate_gbps=LINE_GBPS)
    tb.set_rss(key=KEY, table=[q % 4 for q in range(128)], types={"ipv4", "udp4", "tcp4"})
    tb.run_until_idle(timeout_us=1e6)   # the NIC prefetches RX descriptors while idle
    c0 = tb.cycles()
    for i in range(frames):
        tb.inject(_udp_frame(size, i))
    tb.run_until_idle(timeout_us=1e6)
    cycles = tb.cycles() - c0
    got = len(tb.rx_completions())
    return {"frac": got / frames, "delivered": got, "cycles_per_frame": cycles / frames}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=256, help="frames per run (default 256)")
    ap.add_argument("--width", type=int, default=512, help="NIC data width (default 512)")
    ap.add_argument("--sizes", type=str, default=",".join(map(str, SIZES)))
    ap.add_argument("--out", type=str, default=None, help="also write the table here")
    a = ap.parse_args(argv)
    if a.width not in vd.rtl_widths():
        ap.error(f"width {a.width} not built; available: {vd.rtl_widths()}")
    sizes = [int(s) for s in a.sizes.split(",")]
    if any(s < 64 or s > 9018 for s in sizes):
        ap.error("sizes must be in 64..9018")
    t0 = time.time()
    lines = [f"# Veridian RTL NIC line rate, DW={a.width}, 250 MHz, {a.frames} frames per run, 100 GbE "
             f"(preamble and gap counted); fraction of line rate",
             f"{'size':>6} | {'TX gen3':>8} {'TX gen4':>8} | {'RX gen3':>8} {'RX gen4':>8} | "
             f"{'TX cycles/frame':>15} {'line cycles/frame':>17}"]
    mac_gbps = a.width * 0.25  # 250 MHz
    if mac_gbps < LINE_GBPS:
        lines.insert(1, f"# note: a {a.width}-bit MAC interface at 250 MHz carries {mac_gbps:.0f} Gb/s, below "
                        f"100 GbE; RX frames queue in the harness MAC, so RX figures here are not line rate")
    for line in lines:
        print(line)
    for size in sizes:
        frames = a.frames if size < 4000 else max(16, a.frames // 8)
        r = {}
        for dma in ("gen3", "gen4"):
            r["tx", dma] = tx_run(size, dma, frames, a.width)
            r["rx", dma] = rx_run(size, dma, frames, a.width)
        line_cycles = (size + WIRE_EXTRA) * 8 / LINE_GBPS / 4.0  # 4 ns per cycle at 250 MHz
        line = (f"{size:>6} | {r['tx', 'gen3']['frac']:>8.1%} {r['tx', 'gen4']['frac']:>8.1%} | "
                f"{r['rx', 'gen3']['frac']:>8.1%} {r['rx', 'gen4']['frac']:>8.1%} | "
                f"{r['tx', 'gen4']['cycles_per_frame']:>15.1f} {line_cycles:>17.1f}")
        print(line, flush=True)
        lines.append(line)
    for dma in ("gen3", "gen4"):
        r = tso_run(dma, a.width)
        line = (f"# one 64 KiB TSO send (MSS 1460, {r['segments']} segments), {dma}: {r['cycles']} cycles "
                f"from the doorbell to the last segment, {r['frac']:.1%} of line rate")
        print(line)
        lines.append(line)
    lines.append(f"# {time.time() - t0:.0f} s wall")
    print(lines[-1])
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
