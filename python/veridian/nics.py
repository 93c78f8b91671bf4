"""NIC specs: RtlNic (the Verilated RTL behind the host driver) and SoftNic
(the same NetDevice in plain C++). Their defaults are those of a
default-constructed C++ sim::NicSpec (host/include/veridian/sim/simulation.hpp),
read from the extension at import, so they are set in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from . import _veridian as _core
from . import abi

# The C++ defaults every field below starts from.
_SPEC = _core.NicSpec()


def rtl_widths() -> list[int]:
    """Data widths the NIC RTL was Verilated for in this build."""
    return list(_core.rtl_widths())


def _dma(spec) -> "_core.DmaConfig":
    if spec is None or spec == "gen3":
        return _core.DmaConfig.pcie_gen3_x16()
    if spec == "gen4":
        return _core.DmaConfig.pcie_gen4_x16()
    if isinstance(spec, _core.DmaConfig):
        return spec
    raise ValueError(f"dma must be 'gen3', 'gen4' or a DmaConfig, not {spec!r}")


@dataclass
class RtlNic:
    """The Verilated RTL NIC behind the host driver."""
    queues: int = _SPEC.queues
    data_width: int = _SPEC.data_width
    clock_mhz: float = _SPEC.clock_mhz
    mtu: int = _SPEC.mtu
    dma: object = "gen3"                  # 'gen3' (the C++ DmaConfig default), 'gen4' or a DmaConfig
    ring_log2: int = _SPEC.ring_log2
    trace: Optional[str] = None           # FST waveform path; tracing only when asked
    tx_csum: bool = _SPEC.tx_csum         # let the stack hand UDP/TCP checksums to the NIC's RTL
    tso: bool = _SPEC.tso                 # let TCP hand the NIC sends of up to 64 KiB (needs tx_csum)
    expect_abi_id: Optional[int] = None   # override the driver's expected ABI id (tests)
    rx_csum: bool = _SPEC.rx_csum         # let the RTL verify RX checksums (per-queue switch in the NIC)
    irq_frames: int = _SPEC.irq_frames    # interrupt moderation: completions per interrupt
    irq_delay_ns: float = _SPEC.irq_delay_ns  # ... or this long after the first one (0: no timer)

    def _check(self) -> None:
        if self.data_width not in rtl_widths():
            raise ValueError(f"data_width {self.data_width} not built; available: {rtl_widths()}")
        if not 1 <= self.queues <= abi.MAX_QUEUES:
            raise ValueError(f"queues must be in 1..{abi.MAX_QUEUES}, not {self.queues}")
        if not abi.MIN_RING_LOG2 <= self.ring_log2 <= abi.MAX_RING_LOG2:
            raise ValueError(f"ring_log2 must be in {abi.MIN_RING_LOG2}..{abi.MAX_RING_LOG2}")
        if not 68 <= self.mtu <= abi.MAX_FRAME - 18:
            raise ValueError(f"mtu must be in 68..{abi.MAX_FRAME - 18}")

    def _spec(self) -> "_core.NicSpec":
        self._check()
        s = _core.NicSpec()
        s.kind = _core.NicSpec.Kind.RTL
        s.queues = self.queues
        s.data_width = self.data_width
        s.clock_mhz = float(self.clock_mhz)
        s.mtu = self.mtu
        s.dma = _dma(self.dma)
        s.ring_log2 = self.ring_log2
        s.trace_path = self.trace or ""
        s.expect_abi_id = self.expect_abi_id
        s.tx_csum = bool(self.tx_csum)
        s.tso = bool(self.tso)
        if not 0 <= self.irq_frames <= 0xFFFF:
            raise ValueError("irq_frames must be in 0..65535")
        if not 0 <= self.irq_delay_ns <= 0xFFFF * abi.IRQ_MOD_UNIT * 1000.0 / self.clock_mhz:
            raise ValueError("irq_delay_ns out of range")
        s.irq_frames = int(self.irq_frames)
        s.rx_csum = bool(self.rx_csum)
        s.irq_delay_ns = float(self.irq_delay_ns)
        return s


@dataclass
class SoftNic:
    """The same NetDevice in plain C++ (no RTL), at native speed."""
    queues: int = 1                       # one queue, unlike NicSpec's 4 (an RtlNic's default)
    mtu: int = _SPEC.mtu
    tx_csum: bool = _SPEC.tx_csum         # finish UDP/TCP checksums with the offload/ software model
    tso: bool = _SPEC.tso                 # segment TCP sends with the offload/ model (needs tx_csum)
    rx_csum: bool = _SPEC.rx_csum         # verify RX checksums with the offload/ model (else the stack does)
    irq_frames: int = _SPEC.irq_frames    # interrupt moderation: frames per receive burst
    irq_delay_ns: float = _SPEC.irq_delay_ns  # ... or this long after the first one (0: no timer)

    def _spec(self) -> "_core.NicSpec":
        if not 1 <= self.queues <= abi.MAX_QUEUES:
            raise ValueError(f"queues must be in 1..{abi.MAX_QUEUES}")
        if not 68 <= self.mtu <= 9000:
            raise ValueError("mtu must be in 68..9000")
        if not 1 <= self.irq_frames <= 0xFFFF:
            raise ValueError("irq_frames must be in 1..65535")
        if not 0 <= self.irq_delay_ns <= 1e9:
            raise ValueError("irq_delay_ns must be in 0..1e9 (one second)")
        s = _core.NicSpec()
        s.kind = _core.NicSpec.Kind.SOFT
        s.queues = self.queues
        s.mtu = self.mtu
        s.tx_csum = bool(self.tx_csum)
        s.tso = bool(self.tso)
        s.rx_csum = bool(self.rx_csum)
        s.irq_frames = int(self.irq_frames)
        s.irq_delay_ns = float(self.irq_delay_ns)
        return s


def _check_nic(nic) -> None:
    if not isinstance(nic, (RtlNic, SoftNic)):
        raise TypeError("nic must be a veridian.RtlNic or veridian.SoftNic")
