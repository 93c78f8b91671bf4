#include "test_util.hpp"
#include "veridian/stack/route.hpp"

namespace vd::test {
namespace {

using stack::Ipv6Addr;
using stack::RouteEntry;
using stack::RouteTable;

Ipv6Addr ip6(const char* s) {
  auto a = Ipv6Addr::parse(s);
  EXPECT_TRUE(a.has_value()) << s;
  return a.value_or(Ipv6Addr{});
}

TEST(Ipv6Addr, ParsesAndPrintsCanonically) {
  struct Case { const char* in; const char* out; };
  for (const auto& c : std::initializer_list<Case>{
           {"::", "::"},
           {"::1", "::1"},
           {"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
           {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},   // first of two equal runs
           {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // one zero group stays
           {"fe80::0202:b3ff:fe1e:8329", "fe80::202:b3ff:fe1e:8329"},
           {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
           {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
           {"64:ff9b::10.0.0.1", "64:ff9b::a00:1"},
           {"ff02::1:ff00:1", "ff02::1:ff00:1"}}) {
    const auto a = Ipv6Addr::parse(c.in);
    ASSERT_TRUE(a.has_value()) << c.in;
    EXPECT_EQ(a->str(), c.out) << c.in;
    EXPECT_EQ(Ipv6Addr::parse(a->str()), a) << c.in;
  }
}

TEST(Ipv6Addr, RejectsMalformed) {
  for (const char* s : {"", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::1",
                        "1:2:3:4:5:6:7:8::", "::1.2.3", "1.2.3.4", "::1/64", "[::1]", " ::1", "fe80::1%eth0",
                        ":1::2", "1::2:"})
    EXPECT_FALSE(Ipv6Addr::parse(s).has_value()) << s;
}

TEST(Ipv6Addr, MulticastAndLinkLocalHelpers) {
  const MacAddr mac{0x00, 0x02, 0xb3, 0x1e, 0x83, 0x29};
  const auto ll = Ipv6Addr::link_local_from_mac(mac);
  EXPECT_EQ(ll.str(), "fe80::202:b3ff:fe1e:8329");
  EXPECT_TRUE(ll.is_link_local());
  EXPECT_FALSE(ll.is_multicast());
  const auto sn = ll.solicited_node();
  EXPECT_EQ(sn.str(), "ff02::1:ff1e:8329");
  EXPECT_TRUE(sn.is_multicast());
  EXPECT_EQ(sn.multicast_mac(), (MacAddr{0x33, 0x33, 0xff, 0x1e, 0x83, 0x29}));
  EXPECT_EQ(Ipv6Addr::from_prefix_and_mac(ip6("2001:db8:1:2:ffff::"), mac).str(), "2001:db8:1:2:202:b3ff:fe1e:8329");
  EXPECT_TRUE(ip6("::1").is_loopback());
  EXPECT_TRUE(ip6("::").is_unspecified());
  const auto c = stack::parse_cidr6("2001:db8::1/64");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->second, 64);
  EXPECT_FALSE(stack::parse_cidr6("2001:db8::1/129").has_value());
  EXPECT_FALSE(stack::parse_cidr6("2001:db8::1").has_value());
}

TEST(PrefixMatch, BitsNotBytes) {
  EXPECT_TRUE(stack::prefix_match(ip("10.0.0.0"), ip("10.0.0.255"), 24));
  EXPECT_FALSE(stack::prefix_match(ip("10.0.0.0"), ip("10.0.1.0"), 24));
  EXPECT_TRUE(stack::prefix_match(ip("10.0.0.0"), ip("10.0.1.0"), 23));
  EXPECT_TRUE(stack::prefix_match(ip("1.2.3.4"), ip("200.0.0.0"), 0));
  EXPECT_TRUE(stack::prefix_match(ip6("2001:db8::"), ip6("2001:db8::ffff"), 64));
  EXPECT_FALSE(stack::prefix_match(ip6("2001:db8::"), ip6("2001:db9::"), 32));  // differ in bit 31
  EXPECT_TRUE(stack::prefix_match(ip6("2001:db8::"), ip6("2001:db9::"), 31));
  EXPECT_EQ(stack::prefix_of(ip("10.1.2.3"), 20), ip("10.1.0.0"));
  EXPECT_EQ(stack::prefix_of(ip6("2001:db8:aaaa::1"), 36).str(), "2001:db8:a000::");
}

TEST(RouteTable, LongestPrefixThenMetricThenFirstAdded) {
  RouteTable<Ipv4Addr> t;
  EXPECT_TRUE(t.add({ip("0.0.0.0"), 0, ip("10.0.0.1"), 0, 100}));
  EXPECT_TRUE(t.add({ip("10.0.0.0"), 8, std::nullopt, 1, 10}));
  EXPECT_TRUE(t.add({ip("10.1.0.0"), 16, std::nullopt, 2, 10}));
  EXPECT_TRUE(t.add({ip("10.1.0.0"), 16, std::nullopt, 3, 5}));
  EXPECT_FALSE(t.add({ip("10.1.9.9"), 16, std::nullopt, 4, 5}));  // same prefix and metric
  EXPECT_FALSE(t.add({ip("10.1.0.0"), 33, std::nullopt, 4, 0}));
  EXPECT_EQ(t.lookup(ip("10.1.2.3"))->ifindex, 3);
  EXPECT_EQ(t.lookup(ip("10.2.2.3"))->ifindex, 1);
  const auto* d = t.lookup(ip("192.0.2.1"));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->gateway, ip("10.0.0.1"));
  EXPECT_EQ(t.remove(ip("10.1.0.0"), 16, 3), 1u);
  EXPECT_EQ(t.lookup(ip("10.1.2.3"))->ifindex, 2);
  EXPECT_EQ(t.remove_interface(2), 1u);
  EXPECT_EQ(t.lookup(ip("10.1.2.3"))->ifindex, 1);
  EXPECT_EQ(t.remove(ip("0.0.0.0"), 0), 1u);
  EXPECT_EQ(t.lookup(ip("192.0.2.1")), nullptr);
}

TEST(RouteTable, Ipv6) {
  RouteTable<Ipv6Addr> t;
  EXPECT_TRUE(t.add({ip6("2001:db8::"), 32, std::nullopt, 1, 0}));
  EXPECT_TRUE(t.add({ip6("2001:db8:1::"), 48, ip6("fe80::1"), 2, 0}));
  EXPECT_TRUE(t.add({ip6("::"), 0, ip6("fe80::2"), 3, 0}));
  EXPECT_EQ(t.lookup(ip6("2001:db8:1::5"))->ifindex, 2);
  EXPECT_EQ(t.lookup(ip6("2001:db8:2::5"))->ifindex, 1);
  EXPECT_EQ(t.lookup(ip6("2002::1"))->ifindex, 3);
}

}  // namespace
}  // namespace vd::test
