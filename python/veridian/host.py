"""Host: a simulated host's protocol stack, its NICs and its sockets."""

from __future__ import annotations

from typing import Optional, Union

from .netns import Namespace, _NetStack
from .nics import SoftNic, _check_nic


class _NicView:
    """host.nic / host.nics[k]: one NIC's counters and, for an RtlNic, its registers."""

    def __init__(self, host: "Host", index: int = 0):
        self._h = host._h
        self.index = index  # NIC number: 0, 1, ... in the order they were added

    @property
    def ifindex(self) -> int:
        """The stack's interface index of this NIC."""
        return self._h.ifindex_at(self.index)

    @property
    def kind(self) -> str:
        return self._h.nic_kind_at(self.index)

    @property
    def mac(self) -> str:
        return self._h.mac_at(self.index)

    def stats(self) -> dict:
        return dict(self._h.nic_stats_at(self.index))

    def registers(self) -> dict:
        """NIC statistics registers read over MMIO (RtlNic only; costs NIC cycles)."""
        return dict(self._h.nic_registers_at(self.index))

    def read_reg(self, addr: int) -> int:
        return self._h.read_reg_at(self.index, addr)

    def pool_stats(self) -> dict:
        return dict(self._h.pool_stats_at(self.index))

    def __repr__(self) -> str:
        return f"Nic({self.index}, {self.kind}, {self.mac})"


class Host(_NetStack):
    """A simulated host: the protocol stack of its root namespace, sockets,
    one or more NICs (host.nic is the first; host.nics all of them, in the
    order added) and any named namespaces (host.add_namespace)."""

    def __init__(self, sim: "Simulation", core):
        self._sim = sim
        self._h = core
        self._ns = core.root
        self._namespaces: dict[str, Namespace] = {}
        self.nic = _NicView(self, 0)
        self.nics: list[_NicView] = [self.nic]

    def add_nic(self, nic=None) -> int:
        """Add a NIC (vd.RtlNic(...) or vd.SoftNic(...); default SoftNic) and
        return its ifindex, which is what add_address(ifindex=) and
        Simulation.connect(a_nic=/b_nic=) take. Its MAC is
        02:56:(0x44+k):hh:hh:hh for the host's k-th NIC (k from 0), hh the
        host's number."""
        nic = nic if nic is not None else SoftNic()
        _check_nic(nic)
        ifindex = self._h.add_nic(nic._spec())
        self.nics.append(_NicView(self, len(self.nics)))
        return ifindex

    def _nic_number(self, ifindex: int) -> int:
        """The NIC that is interface `ifindex` (IndexError if none is)."""
        k = self._h.nic_for_ifindex(int(ifindex))
        if k is None:
            raise IndexError(f"host {self.name!r} has no NIC with ifindex {ifindex}")
        return k

    @property
    def name(self) -> str:
        return self._h.name

    def cpu_stats(self) -> Optional[dict]:
        """Per-core statistics of a host made with cpus=vd.Cpus(...), None
        otherwise: {"ghz", "cores": [{"core", "busy_ns", "busy_ns_by_use"
        (irq/timer/app), "cycles_by_work", "work_done", "items", "waited",
        "wait_total_ns", "wait_max_ns", "free_at_ns"}, ...]}. Counters since
        the host was made; diff two snapshots for a window (see
        veridian.cpus.utilisation)."""
        return self._h.cpu_stats()

    @property
    def mac(self) -> str:
        return self._h.mac

    # -- network namespaces (ip netns, ip link ... netns) --------------------
    def add_namespace(self, name: str, **settings) -> Namespace:
        """A new network namespace with only lo. `settings` are the Linux
        sysctls it has its own copy of, named without their net.ipv4. /
        net.ipv6.conf.all. prefix: ip_forward, ipv6 (IPv6 on every interface
        as it is added), ip_default_ttl, hop_limit, tcp_keepalive_time,
        tcp_keepalive_intvl (seconds), tcp_keepalive_probes, tcp_syncookies,
        tcp_wmem, tcp_rmem (default buffer sizes in bytes),
        tcp_congestion_control ("cubic" or "reno"), tcp_sack,
        tcp_timestamps, tcp_window_scaling. ValueError for a bad or taken
        name (1..64 of A-Z a-z 0-9 _ . -) or value, TypeError for an
        unknown setting."""
        ns = Namespace(self, self._h.add_namespace(str(name), **settings))
        self._namespaces[ns.name] = ns
        return ns

    @property
    def namespaces(self) -> dict:
        """The named namespaces by name, in the order made (ip netns list)."""
        return {n: self._namespaces[n] for n in self._h.namespace_names()}

    def namespace(self, name: str) -> Namespace:
        """The namespace called `name` (KeyError if none is)."""
        self._h.namespace(str(name))  # KeyError for one the host lacks
        return self._namespaces[str(name)]

    def delete_namespace(self, ns: Union[str, Namespace]) -> None:
        """ip netns delete: its veth pairs go (both ends, wherever the peer
        is), its NICs come back to the root namespace (no addresses), its
        sockets close. ValueError for the root namespace."""
        name = self._ns_name(ns)
        if name == "":
            raise ValueError("delete_namespace: the root namespace cannot be deleted")
        self._h.delete_namespace(name)
        self._namespaces.pop(name, None)

    def _ns_name(self, ns) -> str:
        """"" for the root namespace (None or this host), else its name."""
        if ns is None or ns is self:
            return ""
        if isinstance(ns, Namespace):
            if ns.host is not self:
                raise ValueError(f"{ns!r} belongs to host {ns.host.name!r}, not {self.name!r}")
            return ns.name
        if isinstance(ns, str):
            return ns
        raise TypeError(f"a namespace is a Namespace, its name, or None for the root one, not {type(ns).__name__}")

    def _iface(self, iface) -> tuple:
        """An interface as (name, namespace name): "eth1" is in the root
        namespace, ("v1", ns) in ns."""
        if isinstance(iface, str):
            return iface, ""
        if isinstance(iface, tuple) and len(iface) == 2 and isinstance(iface[0], str):
            return iface[0], self._ns_name(iface[1])
        raise TypeError("an interface is a name (in the root namespace) or a (name, namespace) pair")

    def add_veth(self, a, b) -> tuple:
        """ip link add A type veth peer B: a and b are (name, namespace)
        pairs (namespace None for the root one) or names in the root
        namespace. Both ends come up; returns their ifindexes. Frames cross
        with no copy. ValueError for a name that is bad or taken, KeyError
        for a namespace the host lacks; nothing is made then."""
        name_a, ns_a = self._iface(a)
        name_b, ns_b = self._iface(b)
        return tuple(self._h.add_veth(name_a, ns_a, name_b, ns_b))

    def move(self, iface, to) -> int:
        """ip link set dev IFACE netns TO: iface is a name in the root
        namespace or a (name, namespace) pair; `to` a Namespace (None: the
        root one). NICs and veth ends move; lo and VLANs cannot, nor an
        interface with VLANs on it (ValueError). It keeps its name, loses its
        addresses and routes, and arrives up. Returns its new ifindex."""
        name, src = self._iface(iface)
        return self._h.move_interface(src, name, self._ns_name(to))

    def delete_link(self, iface) -> None:
        """ip link delete: a veth end takes its peer with it, a VLAN goes
        alone; NICs and lo cannot be deleted (ValueError)."""
        name, ns = self._iface(iface)
        self._h.delete_interface(ns, name)

    def add_bridge(self, name: str, ports=(), namespace=None, ageing_s: float = 300.0) -> int:
        """ip link add NAME type bridge in `namespace` (None: the root one),
        then `ip link set PORT master NAME` for each port name (NICs and veth
        ends of that namespace). br0 is an interface that takes addresses;
        its ports leave the interface list (their addresses go) and the
        bridge learns, forwards and floods between them, as Linux's does
        (no STP). Returns br0's ifindex."""
        ns = self._ns_name(namespace)
        idx = self._h.add_bridge(ns, str(name), float(ageing_s))
        for p in ports:
            self._h.set_master(ns, str(p), str(name))
        return idx

    def set_master(self, iface, bridge: str) -> None:
        """ip link set dev IFACE master BRIDGE (iface a name in the root
        namespace or a (name, namespace) pair; the bridge is in the same one)."""
        name, ns = self._iface(iface)
        self._h.set_master(ns, name, str(bridge))

    def set_nomaster(self, iface) -> int:
        """ip link set dev IFACE nomaster: it is an interface again (no
        addresses); returns its ifindex."""
        name, ns = self._iface(iface)
        return self._h.set_nomaster(ns, name)

    def bridge_info(self, name: str, namespace=None) -> dict:
        """{"ports": [names], "fdb": [{"mac", "ifname", "age_ns"}] (bridge fdb
        show, learnt entries), "stats": counters (forwarded, flooded,
        filtered, copies, drops, fdb_learned/moved/aged_out/full, ...)}."""
        return self._h.bridge_info(self._ns_name(namespace), str(name))

    def veth_pool_stats(self) -> Optional[dict]:
        """The buffers all of the host's veths share (None before the first
        veth): allocs, frees, available, capacity, bytes copied."""
        return self._h.veth_pool_stats()

    def inject(self, frame: bytes, fcs_error: bool = False, ifindex: Optional[int] = None) -> None:
        """Deliver a raw Ethernet frame (no FCS) to this host's NIC (default
        the first; `ifindex` names another) as if from the wire."""
        if ifindex is None:
            self._h.inject(bytes(frame), fcs_error)
        else:
            self._h.inject_at(self._nic_number(ifindex), bytes(frame), fcs_error)

    def __repr__(self) -> str:
        return f"Host({self.name!r}, nic={self._h.nic_kind})"
