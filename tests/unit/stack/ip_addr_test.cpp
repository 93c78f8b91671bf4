#include "test_util.hpp"

namespace vd::test {
namespace {

TEST(Ipv4Addr, ParsesDottedQuad) {
  const auto a = Ipv4Addr::parse("10.0.255.1");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->to_u32(), 0x0a00ff01u);
  EXPECT_EQ(a->str(), "10.0.255.1");
  EXPECT_EQ(Ipv4Addr::parse("0.0.0.0")->to_u32(), 0u);
  EXPECT_TRUE(Ipv4Addr::parse("255.255.255.255")->is_broadcast());
  EXPECT_TRUE(Ipv4Addr::parse("224.0.0.1")->is_multicast());
}

TEST(Ipv4Addr, RejectsMalformed) {
  for (const char* s : {"", "1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4", "1..2.3", "1.2.3.4.", ".1.2.3",
                        " 1.2.3.4", "1.2.3.4 ", "a.b.c.d", "01.2.3.4", "1.2.3.1000", "1.2.3.4/24"})
    EXPECT_FALSE(Ipv4Addr::parse(s).has_value()) << s;
}

TEST(Ipv4Addr, FromU32RoundTrips) {
  const auto a = Ipv4Addr::from_u32(0xc0a80001u);
  EXPECT_EQ(a.str(), "192.168.0.1");
  EXPECT_LT(ip("10.0.0.1"), ip("10.0.0.2"));
}

TEST(ParseCidr, Valid) {
  const auto c = stack::parse_cidr("10.1.2.3/24");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->first, ip("10.1.2.3"));
  EXPECT_EQ(c->second, 24);
  EXPECT_EQ(stack::parse_cidr("0.0.0.0/0")->second, 0);
  EXPECT_EQ(stack::parse_cidr("1.2.3.4/32")->second, 32);
}

TEST(ParseCidr, Invalid) {
  for (const char* s : {"10.1.2.3", "10.1.2.3/", "10.1.2.3/33", "10.1.2.3/-1", "10.1.2/8", "10.1.2.3/2a",
                        "10.1.2.3/08", "/24", "10.1.2.3/24/1"})
    EXPECT_FALSE(stack::parse_cidr(s).has_value()) << s;
}

TEST(MacStr, Formats) {
  EXPECT_EQ(stack::mac_str(MacAddr{0x02, 0x00, 0xab, 0xcd, 0xef, 0x01}), "02:00:ab:cd:ef:01");
  EXPECT_EQ(stack::mac_str(wire::kBroadcastMac), "ff:ff:ff:ff:ff:ff");
}

}  // namespace
}  // namespace vd::test
