// TCP's send buffer (chunks, zero-copy sends from TSO-pool buffers) and
// receive buffer (adopted DMA buffers, else copies); buffers.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "veridian/core/hostmem.hpp"

namespace vd::stack {

// The send buffer: the bytes from buf_seq on (unacknowledged, then
// unsent), counted against a fixed capacity, stored in chunks. A chunk is a
// buffer from the route device's TSO pool when there is one and it is at
// least half free (else a heap block), so a segment that starts a chunk's
// unacknowledged bytes can be sent with no copy: the headers go into the
// buffer's headroom (or over acknowledged bytes) in front of the payload
// send() left there (Packet::share). Chunks are taken as
// bytes arrive and released once acknowledged, so idle connections hold
// no pool buffers.
class SendQueue {
 public:
  std::size_t size() const { return len_; }
  std::size_t capacity() const { return cap_; }
  std::size_t space() const { return cap_ - len_; }
  // Only while empty.
  void resize(std::size_t cap) {
    chunks_.clear();
    cap_ = cap;
    len_ = 0;
  }
  // Where later chunks come from (null: the heap only) and the payload
  // bytes each holds at most.
  void set_source(BufferPool* pool, std::size_t chunk_bytes) {
    pool_ = pool;
    chunk_ = chunk_bytes ? chunk_bytes : kHeapChunk;
  }
  // The application's copy: up to space() bytes; returns how many. Copies
  // into pool chunks are counted on the pool (bytes_copied_in).
  std::size_t push(std::span<const std::uint8_t> d);
  // Copies n bytes starting `off` bytes after the head into out.
  void peek(std::size_t off, std::uint8_t* out, std::size_t n) const;
  void pop(std::size_t n);
  // Bytes from `off` to the end of the chunk holding it (0 past the end);
  // *pooled: whether that chunk is a pool buffer. With `room`, counts the
  // chunk's unwritten space too (the tail chunk's end is its capacity).
  std::size_t chunk_left(std::size_t off, bool* pooled = nullptr, bool room = false) const;
  // Zero-copy: a handle on the `pool` buffer holding [off, off + n), viewing
  // exactly those bytes, when they begin that chunk's live bytes (so all in
  // front of them, the headroom and acknowledged bytes, is free for
  // headers) and nothing else holds the buffer (the NIC is done with
  // earlier sends from it, so no byte it may read is rewritten). Otherwise
  // an empty handle.
  Packet share(std::size_t off, std::size_t n, const BufferPool* pool);
  std::size_t chunks() const { return chunks_.size(); }
  static constexpr std::size_t kHeapChunk = 64 * 1024;

 private:
  struct Chunk {
    Packet pkt;                           // a pool chunk: payload at pkt.data(), pkt.size() written
    std::unique_ptr<std::uint8_t[]> own;  // else a heap block
    std::uint8_t* data = nullptr;         // the payload area (either)
    std::size_t cap = 0;                  // payload bytes it holds at most
    std::size_t start = 0, end = 0;       // live bytes [start, end); end = bytes written
  };
  void add_chunk();
  // The chunk holding byte `off` (an index, chunks() when past the end)
  // and the offset into its live bytes.
  std::pair<std::size_t, std::size_t> locate(std::size_t off) const;
  std::deque<Chunk> chunks_;
  bool uniform_ = true;  // every chunk has the same cap
  BufferPool* pool_ = nullptr;
  std::size_t chunk_ = kHeapChunk;
  std::size_t cap_ = 0, len_ = 0;
};

// The receive buffer: in-order bytes waiting for recv(), counted against a
// fixed capacity (the window). A segment's payload stays in the DMA buffer
// it arrived in when it can (zero-copy receive: recv() is then the only
// copy, as in Linux's receive queue of skbs); under buffer-pool pressure or
// for out-of-order data it is copied instead. Pool buffers are adopted
// only while the pool is at least half free, so a slow reader cannot starve
// the NIC's receive ring.
class RecvQueue {
 public:
  std::size_t size() const { return len_; }
  std::size_t capacity() const { return cap_; }
  std::size_t space() const { return cap_ - len_; }
  void resize(std::size_t cap) {
    chunks_.clear();
    cap_ = cap;
    len_ = 0;
  }
  // Copies up to space() bytes; returns how many.
  std::size_t push(std::span<const std::uint8_t> d);
  // Takes the packet holding `d` (which must lie inside it) when all of d
  // fits and the pool is not under pressure; false (p untouched) otherwise.
  bool adopt(Packet& p, std::span<const std::uint8_t> d);
  // Copies n bytes starting `off` bytes after the head into out.
  void peek(std::size_t off, std::uint8_t* out, std::size_t n) const;
  void pop(std::size_t n);
  std::size_t adopted() const { return adopted_; }

 private:
  struct Chunk {
    Packet pkt;                      // the DMA buffer, when adopted
    std::vector<std::uint8_t> own;   // else a copy
    std::size_t off = 0, len = 0;    // unread bytes: [off, off + len) of base()
    const std::uint8_t* base() const { return pkt ? pkt.data() : own.data(); }
  };
  std::deque<Chunk> chunks_;
  std::size_t cap_ = 0, len_ = 0, adopted_ = 0;
};

}  // namespace vd::stack
