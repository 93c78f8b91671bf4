// A (10.0.1.2) -- R (10.0.1.1 | 10.0.2.1) -- B (10.0.2.2): two hosts and a
// router on fake devices, shared by the forwarding and hook tests.
#pragma once

#include "test_util.hpp"

namespace vd::test {

inline constexpr MacAddr kMacR0{0x02, 0, 0, 0, 1, 0x00};
inline constexpr MacAddr kMacR1{0x02, 0, 0, 0, 1, 0x01};

struct Routed {
  static constexpr TimePs kLat = us_to_ps(1);
  explicit Routed(stack::StackConfig rcfg = {})
      : da(kMacA), db(kMacB), r0(kMacR0), r1(kMacR1), a(sched, "a"), b(sched, "b"), r(sched, "r", rcfg) {
    FakeDevice::connect(da, r0, sched, kLat);
    FakeDevice::connect(r1, db, sched, kLat);
    ia = a.add_interface(da);
    ib = b.add_interface(db);
    ir0 = r.add_interface(r0);
    ir1 = r.add_interface(r1);
    a.add_address(ia, ip("10.0.1.2"), 24);
    b.add_address(ib, ip("10.0.2.2"), 24);
    r.add_address(ir0, ip("10.0.1.1"), 24);
    r.add_address(ir1, ip("10.0.2.1"), 24);
    a.add_route(ip("0.0.0.0"), 0, ip("10.0.1.1"));
    b.add_route(ip("0.0.0.0"), 0, ip("10.0.2.1"));
    r.set_forwarding(true);
    sched.run_for(ms_to_ps(1));
  }
  void run() { sched.run_for(ms_to_ps(20)); }
  FakeScheduler sched;
  FakeDevice da, db, r0, r1;
  stack::Stack a, b, r;
  int ia = -1, ib = -1, ir0 = -1, ir1 = -1;  // each device's ifindex (lo is 0)
};

}  // namespace vd::test
