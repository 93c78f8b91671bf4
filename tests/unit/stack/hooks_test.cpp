// The netfilter-style hook points (filter/hooks.hpp): each hook sees the
// packets Linux's would, in priority order, with the right interfaces; a
// drop stops the packet and is counted; nothing registered changes nothing.
#include <tuple>
#include <vector>

#include "routed_net.hpp"
#include "test_util.hpp"
#include "test_util6.hpp"

namespace vd::test {
namespace {

using stack::filter::Family;
using stack::filter::Hook;
using stack::filter::HookContext;
using stack::filter::Verdict;

using Seen = std::tuple<Family, Hook, int, int>;  // family, hook, in, out

// Records every hook of a family on a stack, accepting everything.
std::vector<Seen>* record_all(stack::Stack& s, Family f, std::vector<Seen>& log) {
  for (Hook h : {Hook::prerouting, Hook::input, Hook::forward, Hook::output, Hook::postrouting})
    s.hooks().add(f, h, 0, [&log](Packet&, const HookContext& c) {
      log.emplace_back(c.family, c.hook, c.in_ifindex, c.out_ifindex);
      return Verdict::accept;
    });
  return &log;
}

int count(const std::vector<Seen>& log, Hook h) {
  int n = 0;
  for (const auto& s : log) n += std::get<1>(s) == h;
  return n;
}

TEST(Hooks, APingPassesEachHookWhereLinuxWould) {
  Routed n;
  std::vector<Seen> at_a, at_r;
  record_all(n.a, Family::ipv4, at_a);
  record_all(n.r, Family::ipv4, at_r);
  ASSERT_FALSE(n.a.send_echo(ip("10.0.2.2"), 1, 1));
  n.run();
  ASSERT_EQ(n.a.echo_replies().size(), 1u);
  // The sender: request out through output and postrouting, the reply in
  // through prerouting and input.
  EXPECT_EQ(at_a, (std::vector<Seen>{{Family::ipv4, Hook::output, -1, n.ia},
                                     {Family::ipv4, Hook::postrouting, -1, n.ia},
                                     {Family::ipv4, Hook::prerouting, n.ia, -1},
                                     {Family::ipv4, Hook::input, n.ia, -1}}));
  // The router: both directions through prerouting, forward, postrouting;
  // never input or output.
  EXPECT_EQ(at_r, (std::vector<Seen>{{Family::ipv4, Hook::prerouting, n.ir0, -1},
                                     {Family::ipv4, Hook::forward, n.ir0, n.ir1},
                                     {Family::ipv4, Hook::postrouting, n.ir0, n.ir1},
                                     {Family::ipv4, Hook::prerouting, n.ir1, -1},
                                     {Family::ipv4, Hook::forward, n.ir1, n.ir0},
                                     {Family::ipv4, Hook::postrouting, n.ir1, n.ir0}}));
}

TEST(Hooks, ADropStopsThePacketIsCountedAndRemovingTheHookUndoesIt) {
  Routed n;
  const auto id = n.b.hooks().add(Family::ipv4, Hook::input, 0, [](Packet& p, const HookContext&) {
    const auto v = wire::Ipv4View::parse(p.bytes());
    return v && v->protocol() == wire::kIpProtoIcmp ? Verdict::drop : Verdict::accept;
  });
  ASSERT_FALSE(n.a.send_echo(ip("10.0.2.2"), 1, 1));
  n.run();
  EXPECT_TRUE(n.a.echo_replies().empty());
  EXPECT_EQ(drops(n.b, "filter.ip_input"), 1u);
  EXPECT_TRUE(n.b.hooks().remove(id));
  EXPECT_FALSE(n.b.hooks().remove(id));
  ASSERT_FALSE(n.a.send_echo(ip("10.0.2.2"), 1, 2));
  n.run();
  EXPECT_EQ(n.a.echo_replies().size(), 1u);
  EXPECT_EQ(drops(n.b, "filter.ip_input"), 1u);
}

TEST(Hooks, ForwardDropOnTheRouterAndOutputDropIsEperm) {
  Routed n;
  n.r.hooks().add(Family::ipv4, Hook::forward, 0, [](Packet&, const HookContext&) { return Verdict::drop; });
  ASSERT_FALSE(n.a.send_echo(ip("10.0.2.2"), 1, 1));
  n.run();
  EXPECT_TRUE(n.a.echo_replies().empty());
  EXPECT_EQ(drops(n.r, "filter.ip_forward"), 1u);
  EXPECT_EQ(events(n.r, "ipv4.forwarded"), 0u);

  n.a.hooks().add(Family::ipv4, Hook::output, 0, [](Packet&, const HookContext&) { return Verdict::drop; });
  EXPECT_EQ(n.a.send_echo(ip("10.0.2.2"), 1, 2), std::errc::operation_not_permitted);
  EXPECT_EQ(drops(n.a, "filter.ip_output"), 1u);
}

TEST(Hooks, HandlersRunInPriorityOrderAndTheFirstDropWins) {
  Routed n;
  std::vector<int> order;
  auto rec = [&order](int tag, Verdict v) {
    return [&order, tag, v](Packet&, const HookContext&) {
      order.push_back(tag);
      return v;
    };
  };
  n.b.hooks().add(Family::ipv4, Hook::prerouting, 10, rec(3, Verdict::accept));
  n.b.hooks().add(Family::ipv4, Hook::prerouting, -300, rec(1, Verdict::accept));
  n.b.hooks().add(Family::ipv4, Hook::prerouting, 0, rec(2, Verdict::drop));
  n.b.hooks().add(Family::ipv4, Hook::prerouting, 0, rec(4, Verdict::accept));  // same priority: after 2
  ASSERT_FALSE(n.a.send_echo(ip("10.0.2.2"), 1, 1));
  n.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(drops(n.b, "filter.ip_prerouting"), 1u);
  EXPECT_EQ(n.b.hooks().size(Family::ipv4, Hook::prerouting), 4u);
}

TEST(Hooks, IngressSeesFramesBeforeEthernet) {
  Routed n;
  int frames = 0;
  n.b.hooks().add(Family::netdev, Hook::ingress, 0, [&frames, &n](Packet& p, const HookContext& c) {
    EXPECT_EQ(c.in_ifindex, n.ib);
    EXPECT_GE(p.size(), wire::kEthHeaderLen);  // data() is the Ethernet header
    ++frames;
    return Verdict::drop;
  });
  const auto eth_before = layer(n.b, "eth").rx_packets;
  ASSERT_FALSE(n.a.send_echo(ip("10.0.2.2"), 1, 1));
  n.run();
  EXPECT_GE(frames, 1);
  EXPECT_EQ(layer(n.b, "eth").rx_packets, eth_before);
  EXPECT_EQ(drops(n.b, "filter.netdev_ingress"), std::uint64_t(frames));
}

TEST(Hooks, BadRegistrationsAreRefused) {
  Routed n;
  auto ok = [](Packet&, const HookContext&) { return Verdict::accept; };
  EXPECT_THROW(n.a.hooks().add(Family::netdev, Hook::input, 0, ok), std::invalid_argument);
  EXPECT_THROW(n.a.hooks().add(Family::ipv4, Hook::ingress, 0, ok), std::invalid_argument);
  EXPECT_THROW(n.a.hooks().add(Family::ipv6, Hook::input, 0, nullptr), std::invalid_argument);
  EXPECT_FALSE(n.a.hooks().active(Family::ipv4, Hook::input));
}

TEST(Hooks, Ipv6EchoPassesOutputPostroutingPreroutingInput) {
  FakeScheduler sched;
  FakeDevice da(kMacA), db(kMacB);
  FakeDevice::connect(da, db, sched, us_to_ps(1));
  stack::Stack a(sched, "a"), b(sched, "b");
  const int ia = a.add_interface(da), ib = b.add_interface(db);
  a.add_address6(ia, ip6("2001:db8::1"), 64);
  b.add_address6(ib, ip6("2001:db8::2"), 64);
  sched.run_for(s_to_ps(3));  // DAD
  std::vector<Seen> at_a, at_b;
  record_all(a, Family::ipv6, at_a);
  record_all(b, Family::ipv6, at_b);
  ASSERT_FALSE(a.send_echo6(ip6("2001:db8::2"), 7, 1));
  sched.run_for(ms_to_ps(20));
  ASSERT_EQ(a.echo_replies6().size(), 1u);
  // Neighbour discovery passes the hooks too; the echo adds one of each.
  for (const auto* log : {&at_a, &at_b}) {
    EXPECT_GE(count(*log, Hook::output), 1);
    EXPECT_EQ(count(*log, Hook::output), count(*log, Hook::postrouting));
    EXPECT_GE(count(*log, Hook::input), 1);
    EXPECT_EQ(count(*log, Hook::prerouting), count(*log, Hook::input));
    EXPECT_EQ(count(*log, Hook::forward), 0);
  }
  b.hooks().add(Family::ipv6, Hook::input, 0, [](Packet&, const HookContext&) { return Verdict::drop; });
  ASSERT_FALSE(a.send_echo6(ip6("2001:db8::2"), 7, 2));
  sched.run_for(ms_to_ps(20));
  EXPECT_EQ(a.echo_replies6().size(), 1u);
  EXPECT_GE(drops(b, "filter.ip6_input"), 1u);
}

}  // namespace
}  // namespace vd::test
