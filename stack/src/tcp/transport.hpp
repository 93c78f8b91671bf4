// What the IP layers (and ICMPv6) call in TCP: a narrow interface that
// keeps the TCB and the TCP layer's internals out of them (layer.hpp has
// those).
#pragma once

#include <cstdint>

#include "veridian/core/hostmem.hpp"

namespace vd::stack {

struct TcpLayer;
struct Ipv4Info;
struct Ipv6Addr;
struct Rx6;

// A segment for us (IPv4 protocol 6; IPv6 next header 6).
void tcp_input(TcpLayer& L, const Ipv4Info& info, Packet&& p);
void tcp_input(TcpLayer& L, const Rx6& rx);
// ICMPv6 Packet Too Big lowered the path MTU towards dst (RFC 8201 5.2).
void tcp_pmtu6_lowered(TcpLayer& L, const Ipv6Addr& dst, std::uint32_t mtu);

}  // namespace vd::stack
