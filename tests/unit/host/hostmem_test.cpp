// HostMemory (bounds-checked DMA region + bump allocator), BufferPool and
// Packet (move-only buffer handle with headroom).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "veridian/core/hostmem.hpp"

using vd::BufferPool;
using vd::HostMemory;
using vd::Packet;

namespace {
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed = 1) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7);
  return v;
}
}  // namespace

// ---------------------------------------------------------------- HostMemory bounds

TEST(HostMemory, ReadWriteInsideTheRegionRoundTrips) {
  HostMemory m(4096, 0x10000);
  EXPECT_EQ(m.base(), 0x10000u);
  EXPECT_EQ(m.size(), 4096u);
  const auto src = pattern(16);
  ASSERT_TRUE(m.write(0x10000 + 100, src));
  std::array<std::uint8_t, 16> dst{};
  ASSERT_TRUE(m.read(0x10000 + 100, dst));
  EXPECT_TRUE(std::equal(dst.begin(), dst.end(), src.begin()));
  // The very first and the very last byte are reachable.
  const std::uint8_t one[1] = {0xab};
  EXPECT_TRUE(m.write(0x10000, one));
  EXPECT_TRUE(m.write(0x10000 + 4095, one));
  std::uint8_t back[1] = {0};
  EXPECT_TRUE(m.read(0x10000 + 4095, back));
  EXPECT_EQ(back[0], 0xab);
  // The whole region in one access.
  std::vector<std::uint8_t> all(4096);
  EXPECT_TRUE(m.read(0x10000, all));
  EXPECT_EQ(all[0], 0xab);
  EXPECT_EQ(all[4095], 0xab);
}

TEST(HostMemory, FreshRegionReadsZero) {
  HostMemory m(1 << 20);
  std::vector<std::uint8_t> v(256, 0xff);
  ASSERT_TRUE(m.read(m.base() + 12345, v));
  EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](std::uint8_t b) { return b == 0; }));
}

TEST(HostMemory, AccessesOutsideTheRegionAreRefusedAndTouchNothing) {
  HostMemory m(4096, 0x10000);
  const std::uint64_t b = m.base();
  std::vector<std::uint8_t> buf(16, 0x5a);
  // Below the base, straddling the start, straddling the end, past the end.
  EXPECT_FALSE(m.read(b - 1, std::span<std::uint8_t>(buf.data(), 1)));
  EXPECT_FALSE(m.read(b - 8, buf));
  EXPECT_FALSE(m.read(b + 4096 - 8, buf));
  EXPECT_FALSE(m.read(b + 4096, std::span<std::uint8_t>(buf.data(), 1)));
  EXPECT_FALSE(m.read(0, buf));
  EXPECT_TRUE(std::all_of(buf.begin(), buf.end(), [](std::uint8_t x) { return x == 0x5a; }))
      << "a refused read must not modify the destination";
  EXPECT_FALSE(m.write(b - 1, std::span<const std::uint8_t>(buf.data(), 1)));
  EXPECT_FALSE(m.write(b + 4096 - 15, buf));
  EXPECT_FALSE(m.write(b + 4096, std::span<const std::uint8_t>(buf.data(), 1)));
  // Larger than the whole region.
  std::vector<std::uint8_t> big(4097);
  EXPECT_FALSE(m.read(b, big));
  EXPECT_FALSE(m.write(b, big));
  // The refused writes did not land inside the region either.
  std::vector<std::uint8_t> all(4096, 0xff);
  ASSERT_TRUE(m.read(b, all));
  EXPECT_TRUE(std::all_of(all.begin(), all.end(), [](std::uint8_t x) { return x == 0; }));
}

TEST(HostMemory, AddressesNearTwoToThe64DoNotWrapIntoTheRegion) {
  HostMemory m(4096, 0x10000);
  std::vector<std::uint8_t> buf(16);
  // addr + len overflows 2^64 and would land at a small address if computed naively.
  EXPECT_FALSE(m.read(kMax, std::span<std::uint8_t>(buf.data(), 1)));
  EXPECT_FALSE(m.read(kMax - 7, buf));
  EXPECT_FALSE(m.write(kMax - 7, buf));
  EXPECT_FALSE(m.write(kMax - 0xffff, buf));
  EXPECT_FALSE(m.contains(kMax, 2));
  EXPECT_FALSE(m.contains(kMax - 4095, 4096));
  // Inside the region start, but a length that runs past 2^64.
  EXPECT_FALSE(m.contains(0x10000, kMax));
  EXPECT_FALSE(m.contains(0x10000 + 1, std::size_t(kMax - 0x10000)));
  EXPECT_THROW(m.ptr(kMax - 7, 16), std::out_of_range);
}

TEST(HostMemory, ARegionEndingAtTheTopOfTheAddressSpaceReachesItsLastByte) {
  HostMemory m(4096, kMax - 4095);
  const std::uint8_t v[1] = {0x77};
  EXPECT_TRUE(m.write(kMax, v));
  std::uint8_t back[1] = {0};
  EXPECT_TRUE(m.read(kMax, back));
  EXPECT_EQ(back[0], 0x77);
  std::uint8_t two[2] = {};
  EXPECT_FALSE(m.read(kMax, two));
  EXPECT_FALSE(m.read(0, back));  // wrapped address: not part of the region
}

TEST(HostMemory, ZeroLengthAccesses) {
  HostMemory m(4096, 0x10000);
  std::span<std::uint8_t> none;
  std::span<const std::uint8_t> cnone;
  // Inside, and at one-past-the-end (an empty range there is still in bounds).
  EXPECT_TRUE(m.read(0x10000, none));
  EXPECT_TRUE(m.write(0x10000 + 4096, cnone));
  EXPECT_TRUE(m.contains(0x10000 + 4096, 0));
  // Outside the region even an empty access is refused.
  EXPECT_FALSE(m.read(0x10000 - 1, none));
  EXPECT_FALSE(m.write(0x10000 + 4097, cnone));
  EXPECT_FALSE(m.read(kMax, none));
  EXPECT_FALSE(m.contains(0, 0));
}

TEST(HostMemory, PtrIsCheckedAndPointsAtTheSameBytes) {
  HostMemory m(4096, 0x10000);
  const auto src = pattern(8, 40);
  ASSERT_TRUE(m.write(0x10000 + 64, src));
  const std::uint8_t* p = m.ptr(0x10000 + 64, 8);
  EXPECT_TRUE(std::equal(src.begin(), src.end(), p));
  const HostMemory& cm = m;
  EXPECT_EQ(cm.ptr(0x10000 + 64, 8), p);
  EXPECT_THROW(m.ptr(0x10000 - 1, 1), std::out_of_range);
  EXPECT_THROW(m.ptr(0x10000 + 4090, 7), std::out_of_range);
  EXPECT_THROW(cm.ptr(0x10000 + 4096, 1), std::out_of_range);
  EXPECT_NO_THROW(m.ptr(0x10000 + 4095, 1));
}

// ---------------------------------------------------------------- HostMemory alloc

TEST(HostMemory, AllocIsAlignedMonotonicAndInside) {
  HostMemory m(1 << 20);
  const std::uint64_t a = m.alloc(1);
  const std::uint64_t b = m.alloc(1);
  const std::uint64_t c = m.alloc(100, 4096);
  const std::uint64_t d = m.alloc(3, 1);
  const std::uint64_t e = m.alloc(8, 256);
  EXPECT_EQ(a, m.base());
  EXPECT_EQ(a % 64, 0u);
  EXPECT_EQ(b, a + 64);  // default alignment 64 and no overlap with a
  EXPECT_EQ(c % 4096, 0u);
  EXPECT_GT(c, b);
  EXPECT_EQ(d, c + 100);  // align 1 packs tightly
  EXPECT_EQ(e % 256, 0u);
  EXPECT_GE(e, d + 3);
  EXPECT_TRUE(m.contains(e, 8));
}

TEST(HostMemory, AllocRejectsBadAlignment) {
  HostMemory m(4096);
  EXPECT_THROW(m.alloc(16, 0), std::invalid_argument);
  EXPECT_THROW(m.alloc(16, 3), std::invalid_argument);
  EXPECT_THROW(m.alloc(16, 48), std::invalid_argument);
  EXPECT_EQ(m.alloc(16, 1), m.base());  // nothing was consumed by the failures
}

TEST(HostMemory, AllocExhaustionThrowsBadAllocAndLeavesStateIntact) {
  HostMemory m(4096);
  EXPECT_THROW(m.alloc(4097), std::bad_alloc);
  EXPECT_THROW(m.alloc(kMax), std::bad_alloc);
  const std::uint64_t a = m.alloc(4000);
  EXPECT_EQ(a, m.base());
  EXPECT_THROW(m.alloc(97), std::bad_alloc);      // 4000 rounded to 4032 (64-aligned) + 97 > 4096
  EXPECT_THROW(m.alloc(1, 8192), std::bad_alloc);  // alignment pushes the start past the end
  EXPECT_EQ(m.alloc(64), m.base() + 4032);         // exactly the rest still fits
  EXPECT_THROW(m.alloc(1), std::bad_alloc);
  EXPECT_THROW(m.alloc(1, 1), std::bad_alloc);
}

TEST(HostMemory, AllocOfAHugeAlignmentDoesNotWrap) {
  HostMemory m(4096);
  (void)m.alloc(1);
  EXPECT_THROW(m.alloc(1, std::size_t(1) << 63), std::bad_alloc);
}

// ---------------------------------------------------------------- BufferPool

TEST(BufferPool, CarvesDistinctBuffersFromHostMemory) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 2048, 8);
  EXPECT_EQ(pool.capacity(), 8u);
  EXPECT_EQ(pool.available(), 8u);
  EXPECT_EQ(pool.buf_size(), 2048u);
  EXPECT_EQ(pool.buf_addr(0) % 4096, 0u);
  std::set<std::uint32_t> idx;
  std::vector<Packet> ps;
  for (int i = 0; i < 8; ++i) {
    Packet p = pool.alloc();
    ASSERT_TRUE(p);
    EXPECT_EQ(p.size(), 0u);
    EXPECT_EQ(p.headroom(), BufferPool::kDefaultHeadroom);
    EXPECT_EQ(p.tailroom(), 2048u - BufferPool::kDefaultHeadroom);
    EXPECT_EQ(p.dma_addr(), pool.buf_addr(p.index()) + BufferPool::kDefaultHeadroom);
    EXPECT_TRUE(m.contains(pool.buf_addr(p.index()), pool.buf_size()));
    EXPECT_EQ(p.data(), m.ptr(p.dma_addr(), 1));
    idx.insert(p.index());
    ps.push_back(std::move(p));
  }
  EXPECT_EQ(idx.size(), 8u);
  EXPECT_EQ(pool.available(), 0u);
  EXPECT_EQ(pool.stats().allocs, 8u);
  EXPECT_EQ(pool.stats().frees, 0u);
}

TEST(BufferPool, ConstructionFailsWhenTheRegionIsTooSmall) {
  HostMemory m(16 * 1024);
  EXPECT_THROW(BufferPool(m, 2048, 9), std::bad_alloc);
}

// buf_size * count is not checked for overflow: 2^62 * 4 wraps to 0 bytes,
// the bump allocator hands out an empty arena and the pool "succeeds" with
// four buffers that are not in host memory at all.
TEST(BufferPool, ConstructionRejectsASizeTimesCountThatOverflows) {
  HostMemory m(1 << 20);
  EXPECT_ANY_THROW(BufferPool(m, std::size_t(1) << 62, 4));
}

TEST(BufferPool, ExhaustionReturnsAnEmptyPacketAndCountsTheFailure) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 1024, 2);
  Packet a = pool.alloc();
  Packet b = pool.alloc();
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  Packet c = pool.alloc();
  EXPECT_FALSE(c);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.tailroom(), 0u);
  EXPECT_EQ(pool.stats().alloc_failures, 1u);
  EXPECT_EQ(pool.stats().allocs, 2u);
  EXPECT_FALSE(pool.alloc());
  EXPECT_EQ(pool.stats().alloc_failures, 2u);
  a.release();
  EXPECT_EQ(pool.available(), 1u);
  Packet d = pool.alloc();
  EXPECT_TRUE(d);
  EXPECT_EQ(pool.stats().alloc_failures, 2u);
}

TEST(BufferPool, HeadroomLargerThanTheBufferIsAFailure) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 1024, 2);
  EXPECT_FALSE(pool.alloc(1025));
  EXPECT_EQ(pool.stats().alloc_failures, 1u);
  EXPECT_EQ(pool.available(), 2u);
  Packet full = pool.alloc(1024);  // all headroom, no tailroom: legal
  ASSERT_TRUE(full);
  EXPECT_EQ(full.tailroom(), 0u);
  EXPECT_EQ(full.headroom(), 1024u);
}

TEST(BufferPool, EveryBufferComesBackExactlyOnce) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 512, 4);
  {
    std::vector<Packet> v;
    for (int i = 0; i < 4; ++i) v.push_back(pool.alloc());  // vector growth moves packets around
    EXPECT_EQ(pool.available(), 0u);
    EXPECT_EQ(pool.stats().frees, 0u);
    v.erase(v.begin() + 1);  // shifts by move-assignment
    EXPECT_EQ(pool.available(), 1u);
    EXPECT_EQ(pool.stats().frees, 1u);
  }
  EXPECT_EQ(pool.available(), 4u);
  EXPECT_EQ(pool.stats().allocs, 4u);
  EXPECT_EQ(pool.stats().frees, 4u);
  // And the free list holds four distinct buffers again.
  std::set<std::uint32_t> idx;
  std::vector<Packet> again;
  for (int i = 0; i < 4; ++i) {
    again.push_back(pool.alloc());
    idx.insert(again.back().index());
  }
  EXPECT_EQ(idx.size(), 4u);
}

// ---------------------------------------------------------------- Packet

TEST(Packet, MoveConstructionTransfersOwnership) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 512, 2);
  Packet a = pool.alloc(32);
  std::uint8_t* tail = a.append(10);
  tail[0] = 0x42;
  a.meta.tso_mss = 1400;
  const std::uint32_t idx = a.index();
  Packet b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_EQ(a.size(), 0u);
  ASSERT_TRUE(b);
  EXPECT_EQ(b.index(), idx);
  EXPECT_EQ(b.size(), 10u);
  EXPECT_EQ(b.headroom(), 32u);
  EXPECT_EQ(b.data()[0], 0x42);
  EXPECT_EQ(b.meta.tso_mss, 1400u);
  a.release();  // no-op on a moved-from handle
  EXPECT_EQ(pool.stats().frees, 0u);
  b.release();
  b.release();
  EXPECT_EQ(pool.stats().frees, 1u);
  EXPECT_EQ(pool.available(), 2u);
}

TEST(Packet, MoveAssignmentReleasesTheTargetsBuffer) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 512, 3);
  Packet a = pool.alloc();
  Packet b = pool.alloc();
  const std::uint32_t ia = a.index();
  EXPECT_EQ(pool.available(), 1u);
  b = std::move(a);
  EXPECT_EQ(pool.stats().frees, 1u);
  EXPECT_EQ(pool.available(), 2u);
  EXPECT_EQ(b.index(), ia);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move)
  // Self move-assignment keeps the buffer.
  Packet& self = b;
  b = std::move(self);
  EXPECT_TRUE(b);
  EXPECT_EQ(b.index(), ia);
  EXPECT_EQ(pool.stats().frees, 1u);
  // Assigning an empty handle releases.
  b = Packet{};
  EXPECT_FALSE(b);
  EXPECT_EQ(pool.stats().frees, 2u);
  EXPECT_EQ(pool.available(), 3u);
}

TEST(Packet, PushPullAppendTrimMoveTheWindow) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 256, 1);
  Packet p = pool.alloc(64);
  ASSERT_TRUE(p);
  const std::uint64_t start = p.dma_addr();
  std::uint8_t* body = p.append(100);
  for (int i = 0; i < 100; ++i) body[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(p.size(), 100u);
  EXPECT_EQ(p.tailroom(), 256u - 64u - 100u);
  std::uint8_t* hdr = p.push(14);
  EXPECT_EQ(hdr, p.data());
  EXPECT_EQ(p.dma_addr(), start - 14);
  EXPECT_EQ(p.size(), 114u);
  EXPECT_EQ(p.headroom(), 50u);
  EXPECT_EQ(p.data()[14], 0u);
  EXPECT_EQ(p.data()[14 + 99], 99u);
  p.pull(14 + 10);
  EXPECT_EQ(p.size(), 90u);
  EXPECT_EQ(p.data()[0], 10u);
  EXPECT_EQ(p.headroom(), 74u);
  p.trim(5);
  EXPECT_EQ(p.size(), 5u);
  EXPECT_EQ(p.bytes().back(), 14u);
  EXPECT_EQ(p.tailroom(), 256u - 74u - 5u);
  p.reset(16);
  EXPECT_EQ(p.size(), 0u);
  EXPECT_EQ(p.headroom(), 16u);
  EXPECT_EQ(p.tailroom(), 240u);
}

TEST(Packet, OutOfRoomOperationsThrowLengthErrorAndChangeNothing) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 256, 1);
  Packet p = pool.alloc(16);
  p.append(200);
  const auto check_unchanged = [&] {
    EXPECT_EQ(p.size(), 200u);
    EXPECT_EQ(p.headroom(), 16u);
    EXPECT_EQ(p.tailroom(), 40u);
  };
  EXPECT_THROW(p.push(17), std::length_error);
  check_unchanged();
  EXPECT_THROW(p.pull(201), std::length_error);
  check_unchanged();
  EXPECT_THROW(p.append(41), std::length_error);
  check_unchanged();
  EXPECT_THROW(p.append(std::size_t(1) << 40), std::length_error);
  check_unchanged();
  EXPECT_THROW(p.trim(201), std::length_error);
  check_unchanged();
  EXPECT_THROW(p.reset(257), std::length_error);
  check_unchanged();
  // Exactly at the limits works.
  EXPECT_NO_THROW(p.push(16));
  EXPECT_NO_THROW(p.append(40));
  EXPECT_EQ(p.size(), 256u);
  EXPECT_EQ(p.tailroom(), 0u);
  EXPECT_NO_THROW(p.pull(256));
  EXPECT_EQ(p.size(), 0u);
}

TEST(Packet, EmptyHandleRefusesGrowth) {
  Packet p;
  EXPECT_FALSE(p);
  EXPECT_EQ(p.size(), 0u);
  EXPECT_EQ(p.tailroom(), 0u);
  EXPECT_THROW(p.append(1), std::length_error);
  EXPECT_THROW(p.push(1), std::length_error);
  EXPECT_THROW(p.pull(1), std::length_error);
  EXPECT_THROW(p.reset(0), std::length_error);
  EXPECT_NO_THROW(p.trim(0));
  EXPECT_NO_THROW(p.release());
}

// Zero-length push/append on an empty handle pass the room checks and then
// compute data(), which dereferences the null pool (hostmem.cpp Packet::data).
// Run in a child process so a crash fails this test only.
TEST(PacketDeathTest, ZeroLengthGrowthOnAnEmptyHandleDoesNotCrash) {
  EXPECT_EXIT(
      {
        Packet p;
        try {
          (void)p.append(0);
        } catch (const std::exception&) {
        }
        try {
          (void)p.push(0);
        } catch (const std::exception&) {
        }
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

// ---------------------------------------------------------------- packet_from_bytes

TEST(PacketFromBytes, CopiesAndCountsTheCopy) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 1024, 2);
  const auto src = pattern(300, 9);
  Packet p = vd::packet_from_bytes(pool, src);
  ASSERT_TRUE(p);
  EXPECT_EQ(p.size(), 300u);
  EXPECT_EQ(p.headroom(), BufferPool::kDefaultHeadroom);
  const auto got = p.bytes();
  EXPECT_TRUE(std::equal(src.begin(), src.end(), got.begin(), got.end()));
  EXPECT_EQ(pool.stats().bytes_copied_in, 300u);
  // The bytes really are in host memory at the packet's DMA address.
  std::vector<std::uint8_t> via_dma(300);
  ASSERT_TRUE(m.read(p.dma_addr(), via_dma));
  EXPECT_EQ(via_dma, src);
}

TEST(PacketFromBytes, EmptyInputGivesAnEmptyButValidPacket) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 1024, 2);
  Packet p = vd::packet_from_bytes(pool, std::span<const std::uint8_t>{}, 0);
  ASSERT_TRUE(p);
  EXPECT_EQ(p.size(), 0u);
  EXPECT_EQ(p.headroom(), 0u);
  EXPECT_EQ(p.tailroom(), 1024u);
  EXPECT_EQ(pool.stats().bytes_copied_in, 0u);
  EXPECT_EQ(pool.available(), 1u);
}

TEST(PacketFromBytes, ExactFitAndOversize) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 1024, 2);
  const auto fits = pattern(1024 - 128);
  Packet p = vd::packet_from_bytes(pool, fits);
  ASSERT_TRUE(p);
  EXPECT_EQ(p.tailroom(), 0u);
  EXPECT_EQ(p.size(), fits.size());

  const auto too_big = pattern(1024 - 128 + 1);
  const auto allocs = pool.stats().allocs;
  Packet q = vd::packet_from_bytes(pool, too_big);
  EXPECT_FALSE(q);
  EXPECT_EQ(pool.available(), 1u) << "the buffer taken for an oversize input must go back";
  EXPECT_EQ(pool.stats().frees, 1u);
  EXPECT_EQ(pool.stats().allocs, allocs + 1);
  EXPECT_EQ(pool.stats().bytes_copied_in, fits.size()) << "nothing copied for the refused input";
  // With no headroom, the full buffer is usable.
  Packet r = vd::packet_from_bytes(pool, pattern(1024), 0);
  EXPECT_TRUE(r);
  EXPECT_EQ(r.size(), 1024u);
}

TEST(PacketFromBytes, ExhaustedPoolGivesAnEmptyHandle) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 256, 1);
  Packet hold = pool.alloc();
  const auto src = pattern(10);
  Packet p = vd::packet_from_bytes(pool, src);
  EXPECT_FALSE(p);
  EXPECT_EQ(pool.stats().alloc_failures, 1u);
  EXPECT_EQ(pool.stats().bytes_copied_in, 0u);
}

// ---------------------------------------------------------------- Packet::share

TEST(PacketShare, SharedBufferReturnsOnlyWithTheLastHandle) {
  HostMemory m(1 << 20);
  BufferPool pool(m, 1024, 2);
  Packet a = pool.alloc();
  ASSERT_TRUE(a);
  EXPECT_EQ(a.use_count(), 1u);
  EXPECT_EQ(pool.refcount(a.index()), 1u);
  std::memcpy(a.append(100), pattern(100, 3).data(), 100);
  a.meta.tso_mss = 1234;
  Packet b = a.share();
  ASSERT_TRUE(b);
  EXPECT_EQ(a.use_count(), 2u);
  EXPECT_EQ(b.use_count(), 2u);
  EXPECT_EQ(b.index(), a.index());
  EXPECT_EQ(b.data(), a.data());
  EXPECT_EQ(b.size(), 100u);
  EXPECT_EQ(b.meta.tso_mss, 1234);
  EXPECT_EQ(pool.available(), 1u);
  // Each handle has its own view.
  b.pull(10);
  b.trim(20);
  std::uint8_t* h = b.push(4);
  EXPECT_EQ(a.size(), 100u);
  EXPECT_EQ(a.headroom(), BufferPool::kDefaultHeadroom);
  EXPECT_EQ(b.size(), 24u);
  EXPECT_EQ(h, a.data() + 6);
  // Moving a handle does not change the count.
  Packet c = std::move(b);
  EXPECT_FALSE(b);
  EXPECT_EQ(c.use_count(), 2u);
  a.release();
  EXPECT_EQ(pool.available(), 1u) << "still held by the other handle";
  EXPECT_EQ(pool.stats().frees, 0u);
  EXPECT_EQ(c.use_count(), 1u);
  c.release();
  EXPECT_EQ(pool.available(), 2u);
  EXPECT_EQ(pool.stats().frees, 1u);
  // A reallocated buffer starts with one handle again.
  Packet d = pool.alloc();
  Packet e = pool.alloc();
  EXPECT_EQ(d.use_count(), 1u);
  EXPECT_EQ(e.use_count(), 1u);
  EXPECT_FALSE(pool.alloc());
}

TEST(PacketShare, EmptyHandleSharesAsEmpty) {
  Packet p;
  Packet q = p.share();
  EXPECT_FALSE(q);
  EXPECT_EQ(q.use_count(), 0u);
}
