"""NicTestbench: one NIC alone on the simulated clock, for raw offload tests.

    tb = vd.NicTestbench(vd.RtlNic(queues=16, data_width=512))
    tb.set_rss(key=key40, table=[q % 16 for q in range(128)],
               types={"ipv4", "tcp4", "udp4", "ipv6", "tcp6", "udp6"})
    tb.inject(frame)                 # a frame arrives from the wire
    tb.run_until_idle()
    for c in tb.rx_completions():    # .queue .rss_hash .rss_type .csum .data
        ...
    tb.send(frame, csum=True, tso_mss=1448, queue=3)
    tb.run_until_idle()
    frames = tb.wire_frames()        # what the NIC put on the wire

The same calls work with vd.SoftNic, whose offloads are the C++ reference
models, so one test can hold the RTL and the model to the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from . import _veridian as _core
from . import abi

# Names accepted by set_rss(types=...) and reported as rx_completions()[i].rss_type.
RSS_TYPES = {
    "ipv4": abi.RSS_TYPE_IPV4, "tcp4": abi.RSS_TYPE_TCP_IPV4, "udp4": abi.RSS_TYPE_UDP_IPV4,
    "ipv6": abi.RSS_TYPE_IPV6, "tcp6": abi.RSS_TYPE_TCP_IPV6, "udp6": abi.RSS_TYPE_UDP_IPV6,
}
_RSS_NAMES = {v: k for k, v in RSS_TYPES.items()}
_RSS_NAMES[abi.RSS_TYPE_NONE] = None
_CSUM = {abi.CSUM_NOT_CHECKED: "not_checked", abi.CSUM_GOOD: "good", abi.CSUM_BAD: "bad"}


@dataclass(frozen=True)
class Csum:
    """RX checksum verdicts: 'good', 'bad' or 'not_checked' per layer."""
    ip: str
    l4: str


@dataclass(frozen=True)
class RxCompletion:
    data: bytes
    queue: int
    rss_hash: int
    rss_type: Optional[str]   # None when no hash type applied
    csum: Csum
    time_ns: float            # when the host saw the completion


@dataclass(frozen=True)
class WireFrame:
    data: bytes
    time_ns: float            # last bit at the far end of the wire


class NicTestbench:
    """A NIC (RtlNic or SoftNic spec) cabled to a wire the test drives."""

    def __init__(self, nic, rate_gbps: float = 100.0, latency_ns: float = 0.0):
        from . import RtlNic, SoftNic
        if not isinstance(nic, (RtlNic, SoftNic)):
            raise TypeError("nic must be a veridian.RtlNic or veridian.SoftNic")
        self.nic = nic
        self._tb = _core.NicTestbench(nic._spec(), float(rate_gbps), float(latency_ns))

    @property
    def kind(self) -> str:
        return self._tb.kind

    @property
    def now_ns(self) -> float:
        return self._tb.now_ps / 1000.0

    def features(self) -> dict:
        return dict(self._tb.features())

    def set_rss(self, key: bytes, table: Iterable[int], types: Iterable[str]) -> None:
        """Program RSS: a 40-byte Toeplitz key, an indirection table (power-of-two
        length up to 128, entries < the queue count) and the enabled hash types
        (names in RSS_TYPES; an empty set turns RSS off)."""
        mask = 0
        for t in types:
            if t not in RSS_TYPES:
                raise ValueError(f"unknown RSS type {t!r}; known: {sorted(RSS_TYPES)}")
            mask |= 1 << RSS_TYPES[t]
        table = [int(q) for q in table]
        if any(q < 0 or q > 0xFFFF for q in table):
            raise ValueError("RSS table entries must be queue numbers")
        self._tb.set_rss(bytes(key), table, mask)

    def inject(self, frame: bytes) -> None:
        """A frame (Ethernet header first, no FCS) arrives from the wire, after
        any frames injected before it (the wire paces them at its line rate)."""
        self._tb.inject(bytes(frame))

    def send(self, frame: bytes, csum=False, tso_mss: int = 0, queue: int = 0,
             csum_start: Optional[int] = None, csum_offset: Optional[int] = None) -> bool:
        """Post a frame for transmission. csum: False, True/'full' (IPv4 header
        and TCP/UDP), 'ip', 'l4', or 'partial' (with csum_start and csum_offset,
        Linux CHECKSUM_PARTIAL). tso_mss > 0 segments a TCP send. Returns False
        if the queue refused it."""
        ip = l4 = partial = False
        if csum is True or csum == "full":
            ip = l4 = True
        elif csum == "ip":
            ip = True
        elif csum == "l4":
            l4 = True
        elif csum == "partial":
            if csum_start is None or csum_offset is None:
                raise ValueError("csum='partial' needs csum_start and csum_offset")
            partial = True
        elif csum not in (False, None):
            raise ValueError(f"csum must be False, True, 'full', 'ip', 'l4' or 'partial', not {csum!r}")
        if (csum_start is not None or csum_offset is not None) and not partial:
            raise ValueError("csum_start/csum_offset only go with csum='partial'")
        if not 0 <= int(tso_mss) <= 0xFFFF:
            raise ValueError("tso_mss must be in 0..65535")
        if not 0 <= int(queue) <= 0xFFFF:
            raise ValueError("queue must be a queue number")
        for name, v in (("csum_start", csum_start), ("csum_offset", csum_offset)):
            if v is not None and not 0 <= v <= 255:
                raise ValueError(f"{name} must be in 0..255")
        return self._tb.send(bytes(frame), ip, l4, partial, csum_start or 0, csum_offset or 0,
                             int(tso_mss), int(queue))

    def run_until_idle(self, timeout_us: float = 10_000.0) -> None:
        """Run simulated time until nothing is pending; raises TimeoutError if the
        NIC is still busy after timeout_us of simulated time."""
        if not self._tb.run_until_idle(int(timeout_us * 1e6)):
            raise TimeoutError(f"NIC still busy after {timeout_us} us of simulated time")

    def rx_completions(self) -> list[RxCompletion]:
        """Frames the NIC delivered to the host since the last call, in order."""
        out = []
        for data, q, h, t, cip, cl4, ps in self._tb.take_rx():
            out.append(RxCompletion(data, q, h, _RSS_NAMES.get(t, f"type{t}"),
                                    Csum(_CSUM.get(cip, str(cip)), _CSUM.get(cl4, str(cl4))), ps / 1000.0))
        return out

    def wire_frames(self) -> list[WireFrame]:
        """Frames the NIC put on the wire since the last call, in order."""
        return [WireFrame(d, ps / 1000.0) for d, ps in self._tb.take_wire()]

    def nic_stats(self) -> dict:
        return dict(self._tb.nic_stats())

    def cycles(self) -> Optional[int]:
        """The RTL NIC's clock cycle count (None for a SoftNic)."""
        return self._tb.cycles()

    def read_reg(self, addr: int) -> int:
        return self._tb.read_reg(addr)
