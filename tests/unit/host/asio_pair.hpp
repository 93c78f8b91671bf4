// Shared by the Asio tests: two SoftNic hosts, 10.0.0.1 and 10.0.0.2 on
// one 100 Gb/s link, and the io_context their socket objects complete on.
#pragma once

#include <utility>  // Boost 1.74 needs std::exchange declared first

#include <boost/asio/io_context.hpp>

#include "veridian/net/asio.hpp"

namespace vd::test {

struct AsioPair {
  AsioPair() {
    sim::NicSpec spec;
    a = &s.add_host("a", spec);
    b = &s.add_host("b", spec);
    s.connect(*a, *b, sim::LinkConfig{100.0, ns_to_ps(500)});
    a->stack().add_address(a->ifindex(), ip("10.0.0.1"), 24);
    b->stack().add_address(b->ifindex(), ip("10.0.0.2"), 24);
  }
  static stack::Ipv4Addr ip(const char* x) { return stack::Ipv4Addr::parse(x).value(); }
  boost::asio::io_context io;
  sim::Simulation s{1};
  sim::Host *a = nullptr, *b = nullptr;
};

}  // namespace vd::test
