// Helpers shared by the block testbenches: clocking a Verilated block and
// moving bytes in and out of its ports (narrow ports are integers, wide ones
// VlWide word arrays; byte k of a bus is bits [8k+7:8k] throughout the NIC).
#pragma once

#include <cstddef>
#include <cstdint>

#include "verilated.h"

namespace vd::tb {

// One rising edge: inputs set before the call are sampled on it.
template <class M>
void tick(M& m) {
  m.clk = 1;
  m.eval();
  m.clk = 0;
  m.eval();
}

template <class M>
void reset(M& m) {
  m.srst = 1;
  tick(m);
  tick(m);
  m.srst = 0;
  m.eval();
}

inline void set_bytes(QData& d, const std::uint8_t* b, std::size_t n) {
  d = 0;
  for (std::size_t k = 0; k < n && k < 8; ++k) d |= QData(b[k]) << (8 * k);
}
template <std::size_t N>
void set_bytes(VlWide<N>& d, const std::uint8_t* b, std::size_t n) {
  for (std::size_t w = 0; w < N; ++w) {
    EData v = 0;
    for (std::size_t k = 0; k < 4; ++k)
      if (4 * w + k < n) v |= EData(b[4 * w + k]) << (8 * k);
    d[w] = v;
  }
}

inline std::uint8_t get_byte(QData d, std::size_t k) { return static_cast<std::uint8_t>(d >> (8 * k)); }
template <std::size_t N>
std::uint8_t get_byte(const VlWide<N>& d, std::size_t k) {
  return static_cast<std::uint8_t>(d[k / 4] >> (8 * (k % 4)));
}
template <std::size_t N>
bool get_bit(const VlWide<N>& d, std::size_t bit) {
  return ((d[bit / 32] >> (bit % 32)) & 1u) != 0;
}

// A small deterministic generator (SplitMix64), so every seed replays.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  unsigned below(unsigned n) { return static_cast<unsigned>(next() % n); }
  bool chance(unsigned percent) { return below(100) < percent; }
};

}  // namespace vd::tb
