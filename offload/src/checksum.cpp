#include "veridian/offload/checksum.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace vd::offload {

#if defined(__x86_64__)
namespace {
// The even/odd byte split of csum_partial, 32 bytes per step, for CPUs with
// AVX2 (chosen at run time; the build targets baseline x86-64).
__attribute__((target("avx2"))) void even_odd_avx2(const std::uint8_t*& p, std::size_t& n, std::uint64_t& even,
                                                   std::uint64_t& odd) {
  const __m256i mask = _mm256_set1_epi16(0x00ff), zero = _mm256_setzero_si256();
  __m256i ve = zero, vo = zero;
  for (; n >= 32; n -= 32, p += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    ve = _mm256_add_epi64(ve, _mm256_sad_epu8(_mm256_and_si256(v, mask), zero));
    vo = _mm256_add_epi64(vo, _mm256_sad_epu8(_mm256_srli_epi16(v, 8), zero));
  }
  alignas(32) std::uint64_t e[4], o[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(e), ve);
  _mm256_store_si256(reinterpret_cast<__m256i*>(o), vo);
  even += e[0] + e[1] + e[2] + e[3];
  odd += o[0] + o[1] + o[2] + o[3];
}
const bool kAvx2 = __builtin_cpu_supports("avx2");
}  // namespace
#endif

std::uint32_t csum_partial_bytewise(std::span<const std::uint8_t> data, std::uint32_t initial) {
  // The definition, one 16-bit word at a time: the oracle csum_partial is
  // tested against.
  std::uint64_t sum = initial;
  std::size_t i = 0;
  const std::size_t n = data.size();
  for (; i + 1 < n; i += 2) sum += (std::uint32_t(data[i]) << 8) | data[i + 1];
  if (i < n) sum += std::uint32_t(data[i]) << 8;
  while (sum >> 32) sum = (sum & 0xffffffffu) + (sum >> 32);
  return static_cast<std::uint32_t>(sum);
}

std::uint32_t csum_partial(std::span<const std::uint8_t> data, std::uint32_t initial) {
  // Eight bytes per step with the same exact integer result as the word
  // loop: the sum of big-endian words is 256 * (sum of even bytes) + (sum of
  // odd bytes). A little-endian 64-bit load puts the even bytes in the low
  // half of each 16-bit lane and the odd bytes in the high half; masking
  // splits them into four lanes each, which cannot overflow within 256 steps
  // (256 * 255 < 65536). Endian-independent because the bytes are read
  // individually by memcpy into a value whose lanes are then defined by
  // their shifts (little-endian hosts only are supported by the build).
  static_assert(std::endian::native == std::endian::little);
  constexpr std::uint64_t kMask = 0x00ff00ff00ff00ffull;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  std::uint64_t even = 0, odd = 0;
#if defined(__x86_64__)
  if (kAvx2 && n >= 64) even_odd_avx2(p, n, even, odd);
#endif
#if defined(__SSE2__)
  // The same split sixteen bytes at a time: psadbw adds the eight bytes of
  // each half into a 64-bit lane, which cannot overflow.
  {
    const __m128i mask = _mm_set1_epi16(0x00ff), zero = _mm_setzero_si128();
    __m128i ve = zero, vo = zero;
    for (; n >= 16; n -= 16, p += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      ve = _mm_add_epi64(ve, _mm_sad_epu8(_mm_and_si128(v, mask), zero));
      vo = _mm_add_epi64(vo, _mm_sad_epu8(_mm_srli_epi16(v, 8), zero));
    }
    alignas(16) std::uint64_t e[2], o[2];
    _mm_store_si128(reinterpret_cast<__m128i*>(e), ve);
    _mm_store_si128(reinterpret_cast<__m128i*>(o), vo);
    even += e[0] + e[1];
    odd += o[0] + o[1];
  }
#endif
  auto lanes = [](std::uint64_t v) {
    return (v & 0xffff) + ((v >> 16) & 0xffff) + ((v >> 32) & 0xffff) + (v >> 48);
  };
  while (n >= 8) {
    const std::size_t steps = std::min<std::size_t>(n / 8, 256);
    std::uint64_t le = 0, lo = 0;
    for (std::size_t k = 0; k < steps; ++k, p += 8) {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      le += v & kMask;
      lo += (v >> 8) & kMask;
    }
    even += lanes(le);
    odd += lanes(lo);
    n -= steps * 8;
  }
  std::uint64_t sum = initial + (even << 8) + odd;
  while (sum >> 32) sum = (sum & 0xffffffffu) + (sum >> 32);
  // The last 0-7 bytes word by word. Folding first gives the same value:
  // both sides are nonzero (or both zero) and congruent mod 2^32 - 1.
  return csum_partial_bytewise({p, n}, static_cast<std::uint32_t>(sum));
}

std::uint16_t csum_fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

std::uint16_t internet_checksum(std::span<const std::uint8_t> data, std::uint32_t initial) {
  return static_cast<std::uint16_t>(~csum_fold(csum_partial(data, initial)));
}

std::uint32_t pseudo_header_v4(std::span<const std::uint8_t, 4> src, std::span<const std::uint8_t, 4> dst,
                               std::uint8_t proto, std::uint16_t l4_len) {
  std::uint32_t s = csum_partial(src);
  s = csum_partial(dst, s);
  s += proto;
  s += l4_len;
  return s;
}

std::uint32_t pseudo_header_v6(std::span<const std::uint8_t, 16> src, std::span<const std::uint8_t, 16> dst,
                               std::uint8_t next_header, std::uint32_t l4_len) {
  std::uint32_t s = csum_partial(src);
  s = csum_partial(dst, s);
  s += l4_len >> 16;
  s += l4_len & 0xffffu;
  s += next_header;
  return s;
}

std::uint16_t csum_update16(std::uint16_t old_csum, std::uint16_t old_word, std::uint16_t new_word) {
  // HC' = ~(~HC + ~m + m')  (RFC 1624 eqn. 3)
  std::uint32_t s = static_cast<std::uint16_t>(~old_csum);
  s += static_cast<std::uint16_t>(~old_word);
  s += new_word;
  return static_cast<std::uint16_t>(~csum_fold(s));
}

}  // namespace vd::offload
