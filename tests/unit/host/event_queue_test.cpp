#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "veridian/sim/event_queue.hpp"

using vd::sim::EventQueue;

TEST(EventQueue, RunsInTimeOrderThenInsertionOrder) {
  EventQueue q;
  std::vector<std::string> log;
  q.schedule_at(300, [&] { log.push_back("c"); });
  q.schedule_at(100, [&] { log.push_back("a1"); });
  q.schedule_at(100, [&] { log.push_back("a2"); });
  q.schedule_at(200, [&] { log.push_back("b"); });
  EXPECT_EQ(q.run_until(1000), 4u);
  EXPECT_EQ(log, (std::vector<std::string>{"a1", "a2", "b", "c"}));
  EXPECT_EQ(q.now(), 1000u);
}

TEST(EventQueue, NowIsTheEventTimeInsideAnEvent) {
  EventQueue q;
  vd::TimePs seen = 0;
  q.schedule_at(1234, [&] { seen = q.now(); });
  q.run_until(5000);
  EXPECT_EQ(seen, 1234u);
}

TEST(EventQueue, CancelledEventsDoNotRunAndDoNotHoldTheHorizon) {
  EventQueue q;
  int ran = 0;
  auto id = q.schedule_at(10, [&] { ++ran; });
  q.schedule_at(50, [&] { ran += 10; });
  q.cancel(id);
  EXPECT_EQ(q.horizon(), 50u);
  q.run_until(100);
  EXPECT_EQ(ran, 10);
  q.cancel(id);  // cancelling twice is harmless
  q.cancel(9999);
}

TEST(EventQueue, EventsScheduledFromEventsRunInTheSameCall) {
  EventQueue q;
  std::vector<vd::TimePs> times;
  std::function<void()> tick = [&] {
    times.push_back(q.now());
    if (times.size() < 5) q.schedule_in(10, tick);
  };
  q.schedule_at(0, tick);
  q.run_until(35);
  EXPECT_EQ(times, (std::vector<vd::TimePs>{0, 10, 20, 30}));
  q.run_until(100);
  EXPECT_EQ(times.size(), 5u);
}

TEST(EventQueue, PastTimesRunNowNotBackwards) {
  EventQueue q;
  q.run_until(1000);
  vd::TimePs seen = 0;
  q.schedule_at(5, [&] { seen = q.now(); });
  q.run_until(2000);
  EXPECT_EQ(seen, 1000u);
}

TEST(EventQueue, RunUntilPredicateStopsEarly) {
  EventQueue q;
  int n = 0;
  for (int i = 1; i <= 10; ++i) q.schedule_at(vd::TimePs(i) * 100, [&] { ++n; });
  EXPECT_TRUE(q.run_until(10'000, [&] { return n == 3; }));
  EXPECT_EQ(q.now(), 300u);
  EXPECT_FALSE(q.run_until(500, [&] { return n == 100; }));
  EXPECT_EQ(q.now(), 500u);
  EXPECT_EQ(n, 5);
}

TEST(EventQueue, HorizonIsMaxWhenEmpty) {
  EventQueue q;
  EXPECT_EQ(q.horizon(), std::numeric_limits<vd::TimePs>::max());
  EXPECT_FALSE(q.run_one());
}

// Ids are (generation, slot): a slot is reused once its event ran or was
// cancelled, and an old id must never reach the event now in that slot.
TEST(EventQueue, StaleIdsDoNotTouchTheEventThatReusedTheirSlot) {
  EventQueue q;
  int a = 0, b = 0;
  const auto ida = q.schedule_at(10, [&] { ++a; });
  q.run_until(20);
  const auto idb = q.schedule_at(30, [&] { ++b; });  // takes a's slot
  EXPECT_NE(ida, idb);
  EXPECT_NE(idb, vd::kNoTimer);
  q.cancel(ida);  // stale: b must still run
  q.run_until(40);
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
  EXPECT_TRUE(q.empty());
}

// Timers re-armed over and over (an RTO on every ACK) leave cancelled
// entries behind; the queue compacts them, and what is live still runs in
// order.
TEST(EventQueue, ManyCancelledTimersCompactAndLiveOnesRunInOrder) {
  EventQueue q;
  std::vector<int> order;
  vd::TimerId rto = vd::kNoTimer;
  for (int i = 0; i < 100000; ++i) {
    q.cancel(rto);
    rto = q.schedule_at(1'000'000 + vd::TimePs(i), [&order] { order.push_back(-1); });
    if (i % 10000 == 0) q.schedule_at(vd::TimePs(i), [&order, i] { order.push_back(i); });
  }
  EXPECT_EQ(q.pending(), 11u);
  q.run_until(2'000'000);
  std::vector<int> want;
  for (int i = 0; i < 100000; i += 10000) want.push_back(i);
  want.push_back(-1);
  EXPECT_EQ(order, want);
}
