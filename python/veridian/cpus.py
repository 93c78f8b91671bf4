"""Host CPUs in virtual time (docs/cpu.md): how many cores, how fast, what
each kind of work costs, and where interrupts and sockets run.

    sim.add_host("a", nic=vd.RtlNic(queues=4), cpus=vd.Cpus(cores=4, ghz=3.0))
    sock.cpu = 2          # this socket's calls run on core 2
    a.cpu_stats()         # per-core busy time, by use and by kind of work
"""

from __future__ import annotations

import os
from typing import Mapping, Optional, Sequence, Union

from . import _veridian as _core


def default_cost_table() -> dict:
    """The shipped cost table: {"cycles": {work: cycles}, "source": text}."""
    return _core.default_cost_table()


def work_names() -> list[str]:
    """The kinds of work a cost table prices, in order."""
    return list(_core.work_names())


def table_text(cycles: Mapping[str, float], source: Mapping[str, str] | None = None) -> str:
    """A cost table's TOML text from {work: cycles} (every kind is needed)."""
    lines = ["[source]"]
    for k, v in (source or {"method": "given in Python"}).items():
        lines.append(f'{k} = "{v}"')
    lines.append("[cycles]")
    lines += [f"{k} = {float(v)!r}" for k, v in cycles.items()]
    return "\n".join(lines) + "\n"


class Cpus:
    """A host's CPUs: `cores` cores at `ghz`, priced by `table` (None: the
    shipped table; a path to a TOML cost table; or {work: cycles} for every
    kind of work, see work_names()). irq_affinity[k][q] is the core of NIC
    k's queue q (missing: spread round-robin as irqbalance would);
    app_core is where sockets run unless they set sock.cpu."""

    def __init__(self, cores: int = 4, ghz: float = 3.0,
                 table: Union[None, str, os.PathLike, Mapping[str, float]] = None,
                 irq_affinity: Optional[Sequence[Sequence[int]]] = None, app_core: int = 0):
        if not isinstance(cores, int) or isinstance(cores, bool):
            raise TypeError(f"cores must be an int, not {type(cores).__name__}")
        if isinstance(table, (str, os.PathLike)):
            with open(table, encoding="utf-8") as f:
                text = f.read()
            _core.parse_cost_table(text, str(table))  # ValueError with file:line:col
        elif isinstance(table, Mapping):
            text = table_text(table)
        elif table is None:
            text = None
        else:
            raise TypeError("table must be None, a path or a {work: cycles} mapping")
        self._cfg = _core.cpu_config(cores, float(ghz), text, [list(map(int, q)) for q in (irq_affinity or [])],
                                     int(app_core))

    def _config(self):
        return self._cfg

    @property
    def cores(self) -> int:
        return self._cfg.cores

    @property
    def ghz(self) -> float:
        return self._cfg.ghz

    @property
    def table(self) -> dict:
        return self._cfg.table

    def __repr__(self) -> str:
        return f"Cpus(cores={self.cores}, ghz={self.ghz})"


def utilisation(before: dict, after: dict, window_ns: float) -> list[float]:
    """Each core's busy share between two host.cpu_stats() snapshots taken
    window_ns apart (work that runs past the window's end counts in full)."""
    if window_ns <= 0:
        raise ValueError("window_ns must be > 0")
    return [(a["busy_ns"] - b["busy_ns"]) / window_ns for b, a in zip(before["cores"], after["cores"])]
