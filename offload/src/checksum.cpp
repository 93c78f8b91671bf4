#include "veridian/offload/checksum.hpp"

namespace vd::offload {

std::uint32_t csum_partial(std::span<const std::uint8_t> data, std::uint32_t initial) {
  // 64-bit accumulator: no carry handling needed inside the loop for any
  // buffer shorter than 2^48 bytes.
  std::uint64_t sum = initial;
  std::size_t i = 0;
  const std::size_t n = data.size();
  for (; i + 1 < n; i += 2) sum += (std::uint32_t(data[i]) << 8) | data[i + 1];
  if (i < n) sum += std::uint32_t(data[i]) << 8;
  while (sum >> 32) sum = (sum & 0xffffffffu) + (sum >> 32);
  return static_cast<std::uint32_t>(sum);
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
