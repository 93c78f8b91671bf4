// RingIndex: arithmetic on the free-running 16-bit producer/consumer indices
// the driver and the NIC share (Q_PROD, Q_CONS, Q_CPL_PROD).
#include <gtest/gtest.h>

#include <cstdint>

#include "veridian/dev/nic_driver.hpp"

using vd::dev::RingIndex;

TEST(RingIndex, UsedCountsAcrossThe16BitWrap) {
  EXPECT_EQ(RingIndex::used(0, 0), 0u);
  EXPECT_EQ(RingIndex::used(10, 4), 6u);
  // prod has wrapped past 65535, cons has not yet.
  EXPECT_EQ(RingIndex::used(3, 65533), 6u);
  EXPECT_EQ(RingIndex::used(0, 65535), 1u);
  EXPECT_EQ(RingIndex::used(65535, 65535), 0u);
  // Every distance 0..4096 from every 256th starting point, wrap included.
  for (std::uint32_t cons = 0; cons < 65536; cons += 251) {
    for (std::uint32_t k = 0; k <= 4096; k += 17) {
      const auto c = static_cast<std::uint16_t>(cons);
      const auto p = static_cast<std::uint16_t>(cons + k);
      ASSERT_EQ(RingIndex::used(p, c), k) << "prod=" << p << " cons=" << c;
    }
  }
}

TEST(RingIndex, FullAtExactlyRingSizeAcrossTheWrap) {
  EXPECT_TRUE(RingIndex::full(3, 65533, 4));   // 6 used, ring of 4
  EXPECT_TRUE(RingIndex::full(3, 65533, 6));   // exactly full
  EXPECT_FALSE(RingIndex::full(3, 65533, 8));  // 6 of 8
  EXPECT_FALSE(RingIndex::full(3, 65533, 7));
  for (unsigned log2 = 2; log2 <= 12; ++log2) {
    const std::uint32_t size = 1u << log2;
    for (std::uint32_t cons : {0u, 100u, 65535u - size / 2, 65535u}) {
      const auto c = static_cast<std::uint16_t>(cons);
      EXPECT_FALSE(RingIndex::full(static_cast<std::uint16_t>(cons + size - 1), c, size)) << log2 << " " << cons;
      EXPECT_TRUE(RingIndex::full(static_cast<std::uint16_t>(cons + size), c, size)) << log2 << " " << cons;
      EXPECT_FALSE(RingIndex::full(c, c, size));
    }
  }
}

TEST(RingIndex, SlotMasksTheFreeRunningIndex) {
  EXPECT_EQ(RingIndex::slot(0, 16), 0u);
  EXPECT_EQ(RingIndex::slot(15, 16), 15u);
  EXPECT_EQ(RingIndex::slot(16, 16), 0u);
  EXPECT_EQ(RingIndex::slot(65533, 16), 13u);
  EXPECT_EQ(RingIndex::slot(65535, 16), 15u);
  EXPECT_EQ(RingIndex::slot(3, 16), 3u);
  EXPECT_EQ(RingIndex::slot(65535, 4096), 4095u);
  EXPECT_EQ(RingIndex::slot(4096, 4096), 0u);
  EXPECT_EQ(RingIndex::slot(4097, 4), 1u);
  // Consecutive indices visit consecutive slots, wrapping at the ring size,
  // and the 16-bit wrap (65535 -> 0) continues the sequence seamlessly.
  for (unsigned log2 : {2u, 3u, 4u, 8u, 12u}) {
    const std::uint32_t size = 1u << log2;
    std::uint16_t idx = static_cast<std::uint16_t>(65536u - 3 * size - 1);
    std::uint32_t expect = RingIndex::slot(idx, size);
    for (int i = 0; i < int(8 * size); ++i) {
      ASSERT_EQ(RingIndex::slot(idx, size), expect) << "log2=" << log2 << " idx=" << idx;
      ASSERT_LT(RingIndex::slot(idx, size), size);
      ++idx;
      expect = (expect + 1) % size;
    }
  }
}

TEST(RingIndex, PhaseIsOneOnTheFirstPassAndFlipsEveryPass) {
  for (unsigned log2 : {2u, 3u, 4u, 5u, 8u, 10u, 12u}) {
    const std::uint32_t size = 1u << log2;
    for (std::uint32_t i = 0; i < size; ++i) {
      ASSERT_EQ(RingIndex::phase(static_cast<std::uint16_t>(i), log2), 1u) << "first pass, log2=" << log2;
      ASSERT_EQ(RingIndex::phase(static_cast<std::uint16_t>(size + i), log2), 0u) << "second pass, log2=" << log2;
      ASSERT_EQ(RingIndex::phase(static_cast<std::uint16_t>(2 * size + i), log2), 1u) << "third pass";
    }
  }
}

// A reference producer (what the NIC does): completion slot s gets phase p,
// and p flips each time the slot index wraps to 0. Walk three full turns of
// the 16-bit index and check the consumer's expectation matches every write,
// including across 65535 -> 0 (65536 is a multiple of every ring size).
TEST(RingIndex, PhaseMatchesAProducerThatTogglesOnEveryWrapIncluding16BitWrap) {
  for (unsigned log2 : {2u, 4u, 7u, 12u}) {
    const std::uint32_t size = 1u << log2;
    std::uint8_t producer_phase = 1;
    std::uint32_t producer_slot = 0;
    std::uint16_t idx = 0;
    for (std::uint32_t n = 0; n < 3u * 65536u; ++n) {
      ASSERT_EQ(RingIndex::slot(idx, size), producer_slot) << "log2=" << log2 << " n=" << n;
      ASSERT_EQ(RingIndex::phase(idx, log2), producer_phase) << "log2=" << log2 << " n=" << n << " idx=" << idx;
      ++idx;
      if (++producer_slot == size) {
        producer_slot = 0;
        producer_phase ^= 1;
      }
    }
  }
}

TEST(RingIndex, StaleEntryFromPreviousPassHasTheOtherPhase) {
  // The consumer at idx must never accept an entry written one pass earlier
  // in the same slot (idx - size): the phases must differ.
  for (unsigned log2 = 2; log2 <= 12; ++log2) {
    const std::uint32_t size = 1u << log2;
    for (std::uint32_t base : {0u, 12345u, 65535u}) {
      const auto idx = static_cast<std::uint16_t>(base);
      const auto prev = static_cast<std::uint16_t>(base - size);
      EXPECT_EQ(RingIndex::slot(idx, size), RingIndex::slot(prev, size));
      EXPECT_NE(RingIndex::phase(idx, log2), RingIndex::phase(prev, log2)) << "log2=" << log2 << " idx=" << idx;
    }
  }
}
