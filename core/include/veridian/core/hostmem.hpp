// Host memory that a NIC can reach by DMA, and the packet buffers carved
// from it. A Packet is a move-only handle to one buffer with headroom, so the
// stack writes headers in front of the payload and the NIC reads the bytes in
// place (zero-copy). Copies into and out of buffers are counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "veridian/core/work.hpp"

namespace vd {

// A flat, bounds-checked region of "physical" memory starting at base().
// Every DMA access goes through read()/write(), which refuse (return false)
// any access that falls outside the region instead of touching stray memory.
class HostMemory {
 public:
  explicit HostMemory(std::size_t bytes, std::uint64_t base = 0x1'0000'0000ull);

  std::uint64_t base() const { return base_; }
  std::size_t size() const { return size_; }

  // Bump allocator for rings and buffer arenas (never freed: rings and pools
  // live as long as the host). Throws std::bad_alloc when the region is full.
  std::uint64_t alloc(std::size_t bytes, std::size_t align = 64);

  bool contains(std::uint64_t addr, std::size_t len) const {
    return addr >= base_ && len <= size_ && addr - base_ <= size_ - len;
  }
  // Checked pointer into the region; throws std::out_of_range if [addr, addr+len) is outside.
  std::uint8_t* ptr(std::uint64_t addr, std::size_t len);
  const std::uint8_t* ptr(std::uint64_t addr, std::size_t len) const;

  bool read(std::uint64_t addr, std::span<std::uint8_t> dst) const;
  bool write(std::uint64_t addr, std::span<const std::uint8_t> src);

 private:
  std::uint64_t base_;
  std::size_t next_ = 0;
  std::size_t size_;
  // calloc'd: the OS hands out zero pages lazily, so a large, mostly unused
  // region costs nothing until touched.
  std::unique_ptr<std::uint8_t, decltype(&std::free)> mem_;
};

// Per-packet offload metadata (Seastar-style): filled by the stack on TX,
// by the device on RX.
struct OffloadMeta {
  // TX requests
  bool tx_csum_ip = false;      // insert the IPv4 header checksum
  bool tx_csum_l4 = false;      // insert the TCP/UDP checksum (full, pseudo-header included)
  bool tx_csum_partial = false; // Linux CHECKSUM_PARTIAL: fold from csum_start, store at csum_start+csum_offset
  std::uint16_t csum_start = 0;
  std::uint16_t csum_offset = 0;
  std::uint16_t tso_mss = 0;    // 0 = no segmentation
  std::uint16_t l3_offset = 14;
  std::uint16_t l4_offset = 0;
  // RX results
  enum class Csum : std::uint8_t { NotChecked = 0, Good = 1, Bad = 2 };
  Csum rx_csum_ip = Csum::NotChecked;
  Csum rx_csum_l4 = Csum::NotChecked;
  std::uint32_t rss_hash = 0;
  std::uint8_t rss_type = 0;
  std::uint16_t queue = 0;
};

class BufferPool;

class Packet {
 public:
  Packet() = default;
  Packet(Packet&& o) noexcept { *this = std::move(o); }
  Packet& operator=(Packet&& o) noexcept;
  Packet(const Packet&) = delete;
  Packet& operator=(const Packet&) = delete;
  ~Packet() { release(); }

  explicit operator bool() const { return pool_ != nullptr; }

  std::uint8_t* data();
  const std::uint8_t* data() const;
  std::size_t size() const { return len_; }
  std::span<std::uint8_t> bytes() { return {data(), len_}; }
  std::span<const std::uint8_t> bytes() const { return {data(), len_}; }
  std::size_t headroom() const { return head_; }
  std::size_t tailroom() const;
  std::uint64_t dma_addr() const;  // address of data() in host memory
  std::uint32_t index() const { return idx_; }
  BufferPool* pool() const { return pool_; }  // where the buffer returns; null when empty

  // Another handle to the same buffer: its own view (head/len, same as
  // this one's now) and a copy of meta. The buffer returns to its pool when
  // the last handle lets go. Writes through one handle are seen by all, so a
  // sharer must only write where no other handle reads (e.g. headers into
  // headroom no other handle covers). An empty handle shares as empty.
  Packet share() const;
  // Handles to this buffer (0 for an empty handle).
  std::uint32_t use_count() const;

  // Grow at the front (to write a header); throws std::length_error without room.
  std::uint8_t* push(std::size_t n);
  // Drop n bytes from the front (after parsing a header).
  void pull(std::size_t n);
  // Grow at the back; returns a pointer to the new bytes.
  std::uint8_t* append(std::size_t n);
  void trim(std::size_t new_len);
  // Reset to empty with the given headroom.
  void reset(std::size_t headroom);

  OffloadMeta meta;

  void release();

 private:
  friend class BufferPool;
  BufferPool* pool_ = nullptr;
  std::uint32_t idx_ = 0;
  std::uint32_t head_ = 0;
  std::uint32_t len_ = 0;
};

struct PoolStats {
  std::uint64_t allocs = 0;
  std::uint64_t frees = 0;
  std::uint64_t alloc_failures = 0;
  std::uint64_t bytes_copied_in = 0;   // application/wire bytes copied into buffers
  std::uint64_t bytes_copied_out = 0;  // bytes copied out of buffers to applications
};

// Fixed-size buffers carved out of one HostMemory region.
class BufferPool {
 public:
  BufferPool(HostMemory& mem, std::size_t buf_size, std::size_t count);

  // An empty packet (size 0) with the given headroom, or an empty handle
  // when the pool is exhausted (counted in stats().alloc_failures).
  Packet alloc(std::size_t headroom = kDefaultHeadroom);

  std::size_t buf_size() const { return buf_size_; }
  std::size_t available() const { return free_.size(); }
  // Handles holding buffer idx (0 when it is free).
  std::uint32_t refcount(std::uint32_t idx) const { return refs_.at(idx); }
  std::size_t capacity() const { return count_; }
  std::uint64_t buf_addr(std::uint32_t idx) const { return base_ + std::uint64_t(idx) * buf_size_; }
  std::uint8_t* buf_ptr(std::uint32_t idx) { return mem_.ptr(buf_addr(idx), buf_size_); }
  HostMemory& memory() { return mem_; }

  // Count copies so zero-copy is measured rather than claimed.
  void count_copy_in(std::size_t n) {
    stats_.bytes_copied_in += n;
    count_work(Work::copy_bytes, n);  // every counted copy is CPU work
  }
  void count_copy_out(std::size_t n) {
    stats_.bytes_copied_out += n;
    count_work(Work::copy_bytes, n);
  }
  const PoolStats& stats() const { return stats_; }

  static constexpr std::size_t kDefaultHeadroom = 128;

 private:
  friend class Packet;
  void free_index(std::uint32_t idx);  // drops one handle; frees on the last

  HostMemory& mem_;
  std::size_t buf_size_;
  std::size_t count_;
  std::uint64_t base_;
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> refs_;  // handles per buffer (Packet::share)
  PoolStats stats_;
};

// Copy bytes into a fresh packet from the pool (counted as a copy in).
Packet packet_from_bytes(BufferPool& pool, std::span<const std::uint8_t> bytes,
                         std::size_t headroom = BufferPool::kDefaultHeadroom);

}  // namespace vd
