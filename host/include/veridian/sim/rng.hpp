// The simulation's pseudo-random numbers: xoshiro256** (Blackman & Vigna,
// 2018), its state filled by splitmix64. Small, fast, and the same sequence
// on every platform and compiler (unlike std::uniform_*_distribution), so a
// run with the same seed repeats bit for bit. Every user owns its own Rng,
// derived from the Simulation's seed and who it is (a link's index and
// direction, ...): no global state, no std::random_device.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace vd::sim {

// One splitmix64 step: advances `x` and returns the next output.
constexpr std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// A seed for one user, mixed from a base seed and identifying numbers, so
// (seed, 3, 0) and (seed, 0, 3) give unrelated streams.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::initializer_list<std::uint64_t> ids) {
  std::uint64_t x = seed;
  std::uint64_t out = splitmix64(x);
  for (std::uint64_t id : ids) {
    x = out ^ (id + 0x632be59bd9b4e019ull);
    out = splitmix64(x);
  }
  return out;
}

class Rng {
 public:
  explicit constexpr Rng(std::uint64_t seed = 0) { reseed(seed); }

  constexpr void reseed(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& w : s_) w = splitmix64(x);  // never all zero: splitmix64 is a bijection of distinct counters
  }

  constexpr std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  constexpr double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // True with probability p (p <= 0: never, p >= 1: always; draws one number
  // either way, so the stream does not depend on p's value).
  constexpr bool chance(double p) { return uniform() < p; }
  // Uniform in [0, n), n > 0, without modulo bias (rejection).
  constexpr std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % n);
    std::uint64_t r = next();
    while (r >= limit) r = next();
    return r % n;
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

}  // namespace vd::sim
