#include "veridian/core/hostmem.hpp"

#include <cstdint>
#include <cstring>
#include <new>

namespace vd {

HostMemory::HostMemory(std::size_t bytes, std::uint64_t base)
    : base_(base), size_(bytes), mem_(static_cast<std::uint8_t*>(std::calloc(bytes ? bytes : 1, 1)), &std::free) {
  if (!mem_) throw std::bad_alloc();
}

std::uint64_t HostMemory::alloc(std::size_t bytes, std::size_t align) {
  if (align == 0 || (align & (align - 1)) != 0) throw std::invalid_argument("HostMemory::alloc: align must be a power of two");
  std::size_t start = (next_ + align - 1) & ~(align - 1);
  if (start > size_ || bytes > size_ - start) throw std::bad_alloc();
  next_ = start + bytes;
  return base_ + start;
}

std::uint8_t* HostMemory::ptr(std::uint64_t addr, std::size_t len) {
  if (!contains(addr, len)) throw std::out_of_range("HostMemory: access outside host memory");
  return mem_.get() + (addr - base_);
}

const std::uint8_t* HostMemory::ptr(std::uint64_t addr, std::size_t len) const {
  if (!contains(addr, len)) throw std::out_of_range("HostMemory: access outside host memory");
  return mem_.get() + (addr - base_);
}

bool HostMemory::read(std::uint64_t addr, std::span<std::uint8_t> dst) const {
  if (!contains(addr, dst.size())) return false;
  if (!dst.empty()) std::memcpy(dst.data(), mem_.get() + (addr - base_), dst.size());
  return true;
}

bool HostMemory::write(std::uint64_t addr, std::span<const std::uint8_t> src) {
  if (!contains(addr, src.size())) return false;
  if (!src.empty()) std::memcpy(mem_.get() + (addr - base_), src.data(), src.size());
  return true;
}

// ---------------------------------------------------------------- Packet

Packet& Packet::operator=(Packet&& o) noexcept {
  if (this != &o) {
    release();
    pool_ = o.pool_;
    idx_ = o.idx_;
    head_ = o.head_;
    len_ = o.len_;
    meta = o.meta;
    o.pool_ = nullptr;
    o.len_ = 0;
  }
  return *this;
}

void Packet::release() {
  if (pool_) {
    pool_->free_index(idx_);
    pool_ = nullptr;
    len_ = 0;
  }
}

Packet Packet::share() const {
  Packet p;
  if (!pool_) return p;
  ++pool_->refs_[idx_];
  p.pool_ = pool_;
  p.idx_ = idx_;
  p.head_ = head_;
  p.len_ = len_;
  p.meta = meta;
  return p;
}

std::uint32_t Packet::use_count() const { return pool_ ? pool_->refs_[idx_] : 0; }

// An empty handle (moved-from, or a failed alloc) is a buffer of capacity 0:
// reads yield nullptr/0 and any growth throws std::length_error.
std::uint8_t* Packet::data() { return pool_ ? pool_->buf_ptr(idx_) + head_ : nullptr; }
const std::uint8_t* Packet::data() const { return pool_ ? pool_->buf_ptr(idx_) + head_ : nullptr; }
std::size_t Packet::tailroom() const { return pool_ ? pool_->buf_size() - head_ - len_ : 0; }
std::uint64_t Packet::dma_addr() const { return pool_ ? pool_->buf_addr(idx_) + head_ : 0; }

std::uint8_t* Packet::push(std::size_t n) {
  if (n > head_) throw std::length_error("Packet::push: not enough headroom");
  head_ -= static_cast<std::uint32_t>(n);
  len_ += static_cast<std::uint32_t>(n);
  return data();
}

void Packet::pull(std::size_t n) {
  if (n > len_) throw std::length_error("Packet::pull: beyond end of packet");
  head_ += static_cast<std::uint32_t>(n);
  len_ -= static_cast<std::uint32_t>(n);
}

std::uint8_t* Packet::append(std::size_t n) {
  if (n > tailroom()) throw std::length_error("Packet::append: not enough tailroom");
  std::uint8_t* p = data() + len_;
  len_ += static_cast<std::uint32_t>(n);
  return p;
}

void Packet::trim(std::size_t new_len) {
  if (new_len > len_) throw std::length_error("Packet::trim: cannot grow");
  len_ = static_cast<std::uint32_t>(new_len);
}

void Packet::reset(std::size_t headroom) {
  if (!pool_ || headroom > pool_->buf_size()) throw std::length_error("Packet::reset: headroom too large");
  head_ = static_cast<std::uint32_t>(headroom);
  len_ = 0;
  meta = OffloadMeta{};
}

// ---------------------------------------------------------------- BufferPool

static std::size_t pool_bytes(std::size_t buf_size, std::size_t count) {
  if (buf_size == 0 || count == 0) throw std::invalid_argument("BufferPool: buffer size and count must be positive");
  if (count > SIZE_MAX / buf_size) throw std::bad_alloc();
  return buf_size * count;
}

BufferPool::BufferPool(HostMemory& mem, std::size_t buf_size, std::size_t count)
    : mem_(mem), buf_size_(buf_size), count_(count), base_(mem.alloc(pool_bytes(buf_size, count), 4096)) {
  free_.reserve(count);
  refs_.assign(count, 0);
  // Hand out low indices first so runs are easy to read in a debugger.
  for (std::size_t i = count; i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
}

Packet BufferPool::alloc(std::size_t headroom) {
  Packet p;
  if (free_.empty() || headroom > buf_size_) {
    ++stats_.alloc_failures;
    return p;
  }
  p.pool_ = this;
  p.idx_ = free_.back();
  free_.pop_back();
  refs_[p.idx_] = 1;
  p.head_ = static_cast<std::uint32_t>(headroom);
  p.len_ = 0;
  ++stats_.allocs;
  return p;
}

void BufferPool::free_index(std::uint32_t idx) {
  if (refs_[idx] > 1) {
    --refs_[idx];
    return;
  }
  refs_[idx] = 0;
  ++stats_.frees;
  free_.push_back(idx);
}

Packet packet_from_bytes(BufferPool& pool, std::span<const std::uint8_t> bytes, std::size_t headroom) {
  Packet p = pool.alloc(headroom);
  if (!p) return p;
  if (bytes.size() > p.tailroom()) {
    p.release();
    return Packet{};
  }
  if (!bytes.empty()) std::memcpy(p.append(bytes.size()), bytes.data(), bytes.size());
  pool.count_copy_in(bytes.size());
  return p;
}

}  // namespace vd
