// TCP's send and receive buffers (buffers.hpp).
#include "buffers.hpp"

#include <algorithm>
#include <cstring>

namespace vd::stack {

// ------------------------------------------------------------ SendQueue

void SendQueue::add_chunk() {
  Chunk c;
  // A pool chunk only while the pool is at least half free: the NIC's own
  // sends (copies, other connections) keep the rest.
  if (pool_ && pool_->available() * 2 >= pool_->capacity()) c.pkt = pool_->alloc();
  if (c.pkt) {
    c.cap = std::min(chunk_, c.pkt.tailroom());
    c.data = c.pkt.data();
  } else {
    c.cap = std::max<std::size_t>(1, std::min(chunk_, cap_));
    c.own.reset(new std::uint8_t[c.cap]);  // not zero-filled: only read where written
    c.data = c.own.get();
  }
  uniform_ = chunks_.empty() || (uniform_ && c.cap == chunks_.front().cap);
  chunks_.push_back(std::move(c));
}

std::size_t SendQueue::push(std::span<const std::uint8_t> d) {
  const std::size_t n = std::min(d.size(), space());
  std::size_t done = 0;
  while (done < n) {
    if (chunks_.empty() || chunks_.back().end == chunks_.back().cap) add_chunk();
    Chunk& c = chunks_.back();
    const std::size_t k = std::min(n - done, c.cap - c.end);
    std::memcpy(c.data + c.end, d.data() + done, k);
    if (c.pkt) {
      c.pkt.append(k);
      c.pkt.pool()->count_copy_in(k);
    }
    c.end += k;
    done += k;
  }
  len_ += n;
  return n;
}

std::pair<std::size_t, std::size_t> SendQueue::locate(std::size_t off) const {
  if (chunks_.empty()) return {0, off};
  const Chunk& f = chunks_.front();
  const std::size_t live0 = f.end - f.start;
  if (off < live0) return {0, off};
  off -= live0;
  // Every chunk after the first starts at its byte 0 and, but the last, is
  // full: with one chunk size the index is a division (a send buffer of
  // megabytes holds dozens of chunks, walked per segment otherwise).
  if (uniform_) return {1 + off / f.cap, off % f.cap};
  for (std::size_t i = 1; i < chunks_.size(); ++i) {
    const std::size_t live = chunks_[i].end - chunks_[i].start;
    if (off < live) return {i, off};
    off -= live;
  }
  return {chunks_.size(), off};
}

void SendQueue::peek(std::size_t off, std::uint8_t* out, std::size_t n) const {
  auto [i, o] = locate(off);
  for (; n && i < chunks_.size(); ++i, o = 0) {
    const Chunk& c = chunks_[i];
    const std::size_t live = c.end - c.start;
    if (o >= live) break;
    const std::size_t k = std::min(n, live - o);
    std::memcpy(out, c.data + c.start + o, k);
    out += k;
    n -= k;
  }
}

void SendQueue::pop(std::size_t n) {
  n = std::min(n, len_);
  len_ -= n;
  while (n) {
    Chunk& c = chunks_.front();
    const std::size_t k = std::min(n, c.end - c.start);
    c.start += k;
    n -= k;
    if (c.start == c.end && chunks_.size() > 1) chunks_.pop_front();
  }
  if (len_ == 0 && !chunks_.empty()) {
    // Empty: a pool buffer goes back (idle connections hold none); a heap
    // block is kept for the next bytes.
    if (chunks_.front().pkt) {
      chunks_.clear();
    } else {
      chunks_.front().start = chunks_.front().end = 0;
    }
  }
}

std::size_t SendQueue::chunk_left(std::size_t off, bool* pooled, bool room) const {
  const auto [i, o] = locate(off);
  if (i >= chunks_.size()) return 0;
  const Chunk& c = chunks_[i];
  const std::size_t live = c.end - c.start;
  if (o >= live) return 0;
  if (pooled) *pooled = static_cast<bool>(c.pkt);
  return live - o + (room ? c.cap - c.end : 0);
}

Packet SendQueue::share(std::size_t off, std::size_t n, const BufferPool* pool) {
  const auto [i, o] = locate(off);
  if (i >= chunks_.size()) return Packet{};
  Chunk& c = chunks_[i];
  const std::size_t live = c.end - c.start;
  // The segment must start at the chunk's first live byte: in front of it
  // is the buffer's headroom and acknowledged bytes, which the headers
  // may overwrite.
  if (o != 0 || !c.pkt || c.pkt.pool() != pool || n > live || c.pkt.use_count() != 1) return Packet{};
  Packet p = c.pkt.share();
  p.pull(c.start);
  p.trim(n);
  return p;
}

// ------------------------------------------------------------ RecvQueue

std::size_t RecvQueue::push(std::span<const std::uint8_t> d) {
  const std::size_t n = std::min(d.size(), space());
  if (n == 0) return 0;
  // Small copies go into the last copied chunk while it has room, so a run
  // of tiny segments does not cost an allocation each.
  if (chunks_.empty() || chunks_.back().pkt || chunks_.back().own.capacity() - chunks_.back().own.size() < n) {
    Chunk c;
    c.own.reserve(std::max<std::size_t>(n, 16 * 1024));
    chunks_.push_back(std::move(c));
  }
  Chunk& c = chunks_.back();
  c.own.insert(c.own.end(), d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n));
  c.len += n;
  len_ += n;
  return n;
}

bool RecvQueue::adopt(Packet& p, std::span<const std::uint8_t> d) {
  if (!p || d.empty() || d.size() > space()) return false;
  BufferPool* pool = p.pool();
  if (pool->available() * 2 < pool->capacity()) return false;
  const std::uint8_t* b = p.data();
  if (d.data() < b || d.data() + d.size() > b + p.size()) return false;
  Chunk c;
  c.off = static_cast<std::size_t>(d.data() - b);
  c.len = d.size();
  c.pkt = std::move(p);
  chunks_.push_back(std::move(c));
  len_ += d.size();
  adopted_ += d.size();
  return true;
}

void RecvQueue::peek(std::size_t off, std::uint8_t* out, std::size_t n) const {
  for (const Chunk& c : chunks_) {
    if (n == 0) break;
    if (off >= c.len) {
      off -= c.len;
      continue;
    }
    const std::size_t k = std::min(n, c.len - off);
    std::memcpy(out, c.base() + c.off + off, k);
    out += k;
    n -= k;
    off = 0;
  }
}

void RecvQueue::pop(std::size_t n) {
  n = std::min(n, len_);
  len_ -= n;
  while (n) {
    Chunk& c = chunks_.front();
    const std::size_t k = std::min(n, c.len);
    c.off += k;
    c.len -= k;
    n -= k;
    if (c.len == 0 && (c.pkt || chunks_.size() > 1)) chunks_.pop_front();  // keep the last copy chunk's space
  }
  if (len_ == 0 && !chunks_.empty() && !chunks_.front().pkt) {
    Chunk& c = chunks_.front();  // reuse the copy buffer from its start
    c.own.clear();
    c.off = c.len = 0;
  }
}

}  // namespace vd::stack
