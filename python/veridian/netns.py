"""The stack half of a host, shared by a Host (its root namespace) and each
of its named network namespaces (host.add_namespace): addresses, routes,
interfaces, ping, sockets and statistics."""

from __future__ import annotations

from typing import Optional

from .sockets import LocalSocket, RawSocket, TcpSocket, UdpSocket


class _NetStack:
    """What a host and a namespace both do; self._ns is the core
    NetNamespace and self._sim the Simulation that runs it."""

    _ns = None
    _sim = None

    def add_address(self, cidr: str, ifindex: Optional[int] = None) -> None:
        """Add an address/prefix to interface `ifindex` (default the first
        NIC; lo is ifindex 0): "10.0.0.1/24", or "2001:db8::1/64" (an IPv6
        address turns IPv6 on and is tentative until duplicate address
        detection passes); ValueError for an interface the host lacks."""
        if ifindex is None:
            self._ns.add_address(cidr)
        else:
            self._ns.add_address_if(int(ifindex), cidr)

    def enable_ipv6(self) -> None:
        """IPv6 on: link-local address (after DAD), router solicitation, SLAAC."""
        self._ns.enable_ipv6()

    def addresses6(self) -> list:
        """[(address, prefix_len, state, autoconf)], state one of
        "tentative", "preferred", "duplicate"."""
        return list(self._ns.addresses6())

    def add_route6(self, cidr: str, gateway: str = "", metric: int = 0) -> bool:
        return self._ns.add_route6(cidr, gateway, metric)

    def set_router_advert(self, prefixes: list, interval_s: Optional[float] = None,
                          lifetime_s: Optional[int] = None, mtu: Optional[int] = None) -> None:
        """Advertise as a router (RFC 4861): RAs with these prefixes (SLAAC
        for hosts on the link) on request and every interval_s; mtu 0: no MTU
        option. An argument left None keeps the default of the C++
        stack::RouterAdvertConfig (stack/include/veridian/stack/ipv6.hpp)."""
        self._ns.set_router_advert(list(prefixes), interval_s, lifetime_s, mtu)

    def default_router6(self):
        return self._ns.default_router6()

    def path_mtu6(self, dst: str) -> int:
        return self._ns.path_mtu6(dst)

    def ping(self, dst: str, count: int = 1, timeout_ms: float = 1000.0, size: int = 56, ttl: int = 0) -> list:
        """ICMP echo (ICMPv6 for an IPv6 address): returns the RTT of each
        request in ns (None if lost). Advances simulated time as needed.
        Sizes above the MTU are fragmented; ttl 0 is the stack's default (64)."""
        if ":" in dst:
            return self.ping6(dst, count, timeout_ms, size, hop_limit=ttl)
        if count < 0 or size < 0 or size > 65507:
            raise ValueError("count must be >= 0 and size in 0..65507 (larger than the MTU is fragmented)")
        return self._sim._s.ping(self._ns, dst, count, int(timeout_ms * 1e9), size, ttl)

    # -- routing, forwarding, VLANs (IPv4) --------------------------------
    def add_route(self, cidr: str, via: Optional[str] = None, ifindex: Optional[int] = None, metric: int = 0) -> None:
        """A route to cidr through gateway `via` (on a connected subnet) or
        on-link out of `ifindex`. "0.0.0.0/0" is the default route. IPv6
        prefixes ("2001:db8::/32", "::/0") go to the IPv6 table."""
        self._ns.add_route(cidr, via, ifindex, metric)

    def remove_route(self, cidr: str) -> bool:
        return self._ns.remove_route(cidr)

    def routes(self) -> list:
        """The routing table: dicts with prefix, via, ifindex, metric, connected."""
        return self._ns.routes()

    def set_forwarding(self, on: bool = True) -> None:
        """Route datagrams between this host's interfaces (a router), IPv4 and IPv6."""
        self._ns.set_forwarding(on)

    def add_vlan(self, vid: int, parent: Optional[int] = None) -> int:
        """An 802.1Q sub-interface for VLAN vid on interface `parent` (an
        ifindex; default the first interface other than lo); returns its ifindex."""
        return self._ns.add_vlan(vid, self._ns.default_ifindex() if parent is None else int(parent))

    # -- interfaces (ip link / ip addr) ------------------------------------
    def links(self) -> list:
        """Every interface as `ip -j -s addr show` prints it: dicts with
        ifindex, ifname, link (a VLAN's parent), flags, mtu, operstate,
        link_type, address, linkinfo.info_kind, addr_info (inet and inet6)
        and stats64 (rx/tx bytes, packets, dropped). lo is ifindex 0 here
        (Linux numbers it 1); names follow Linux: lo, eth0, eth0.10."""
        return self._ns.links()

    def set_link(self, dev, up: bool) -> None:
        """`ip link set dev DEV up|down`; dev is a name or an ifindex. A down
        interface sends and receives nothing (counted as dropped) and its
        routes are unusable; lo cannot be set down (ValueError)."""
        self._ns.set_link(dev, bool(up))

    def ifindex_of(self, name: str) -> Optional[int]:
        return self._ns.ifindex_of(name)

    def add_address_on(self, ifindex: int, cidr: str) -> None:
        """Adds an address (IPv4 or IPv6 CIDR) to interface `ifindex` (a second NIC, a VLAN)."""
        self._ns.add_address_on(ifindex, cidr)

    def path_mtu(self, dst: str) -> int:
        return self._ns.path_mtu(dst)

    def icmp_errors(self) -> list:
        """ICMP errors received about our datagrams (type, code, from, quoted addresses/ports, mtu)."""
        return self._ns.icmp_errors()

    def neighbors(self) -> list:
        """ARP and ND caches: dicts with ifindex, addr, mac, state (RFC 4861 NUD names)."""
        return self._ns.neighbors()

    def traceroute(self, dst: str, max_hops: int = 16, timeout_ms: float = 100.0) -> list:
        """The hops towards dst, found by TTL expiry of echo requests: one
        address per hop (None where nothing answered), ending at dst."""
        hops = []
        for ttl in range(1, max_hops + 1):
            seen = len(self._ns.icmp_errors())
            rtt = self.ping(dst, timeout_ms=timeout_ms, ttl=ttl)[0]
            if rtt is not None:
                hops.append(dst)
                return hops
            errs = [e for e in self._ns.icmp_errors()[seen:] if e["type"] == 11 and e["orig_dst"] == dst]
            hops.append(errs[0]["from"] if errs else None)
        return hops

    def ping6(self, dst: str, count: int = 1, timeout_ms: float = 1000.0, size: int = 56, hop_limit: int = 0) -> list:
        """ICMPv6 echo; sizes above the path MTU are fragmented (up to 65527);
        hop_limit 0 is the stack's default (64)."""
        if count < 0 or size < 0 or size > 65527:
            raise ValueError("count must be >= 0 and size in 0..65527")
        return self._sim._s.ping6(self._ns, dst, count, int(timeout_ms * 1e9), size, hop_limit)

    def udp_socket(self) -> UdpSocket:
        return UdpSocket(self._sim, self._ns.udp_socket())

    def tcp_socket(self) -> TcpSocket:
        return TcpSocket(self._sim, self._ns.tcp_socket())

    def raw_socket(self, proto: int, family: int = 4) -> "RawSocket":
        """A raw IP socket for protocol number `proto` (family 4 or 6)."""
        return RawSocket(self._sim, self._ns.raw_socket(int(proto), int(family)))

    def local_socket(self, kind: str = "stream") -> "LocalSocket":
        """A local (Unix-domain style) socket: kind "stream" or "dgram"."""
        return LocalSocket(self._sim, self._ns.local_socket(str(kind)))

    def stats(self) -> dict:
        """Per-layer packet/byte counters and drop reasons of the stack."""
        return self._ns.stats()


class Namespace(_NetStack):
    """A named network namespace of a host (`ip netns add`): a whole stack of
    its own with lo (127.0.0.1/8, ::1) and whatever interfaces are added or
    moved into it. Everything a Host does with addresses, routes, sockets,
    ping and stats, a Namespace does the same way. After delete() every
    call raises RuntimeError; its sockets fail as closed ones do."""

    def __init__(self, host, core):
        self._host = host
        self._sim = host._sim
        self._ns = core

    @property
    def name(self) -> str:
        return self._ns.name

    @property
    def host(self):
        return self._host

    @property
    def deleted(self) -> bool:
        return self._ns.deleted

    def delete(self) -> None:
        """ip netns delete: its veth pairs go (both ends), its NICs return to
        the host's root namespace, its sockets close."""
        self._host.delete_namespace(self.name)

    def __repr__(self) -> str:
        state = " deleted" if self.deleted else ""
        return f"Namespace({self._host.name}:{self.name}{state})"
