// Internet checksum (RFC 1071) reference model. Used by the stack in software
// and, in later work, as the golden model the RTL checksum engines are
// checked against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vd::offload {

// One's-complement sum of 16-bit big-endian words, not folded, not inverted.
// An odd trailing byte is padded with zero. `initial` lets sums be chained.
// Eight bytes at a time; returns exactly what csum_partial_bytewise does.
std::uint32_t csum_partial(std::span<const std::uint8_t> data, std::uint32_t initial = 0);
// The same sum one word at a time, as RFC 1071 defines it (the test oracle).
std::uint32_t csum_partial_bytewise(std::span<const std::uint8_t> data, std::uint32_t initial = 0);
// Fold a 32-bit partial sum into 16 bits (still not inverted).
std::uint16_t csum_fold(std::uint32_t sum);
// The checksum field value: ~fold(sum). Verifying data that includes a
// correct checksum field gives 0.
std::uint16_t internet_checksum(std::span<const std::uint8_t> data, std::uint32_t initial = 0);
// Partial sum of the IPv4 pseudo-header (src, dst, zero, proto, length).
std::uint32_t pseudo_header_v4(std::span<const std::uint8_t, 4> src, std::span<const std::uint8_t, 4> dst,
                               std::uint8_t proto, std::uint16_t l4_len);
// Partial sum of the IPv6 pseudo-header (src, dst, 32-bit length, next header).
std::uint32_t pseudo_header_v6(std::span<const std::uint8_t, 16> src, std::span<const std::uint8_t, 16> dst,
                               std::uint8_t next_header, std::uint32_t l4_len);
// RFC 1624 incremental update: checksum field `old_csum` after a 16-bit word
// changes from old_word to new_word.
std::uint16_t csum_update16(std::uint16_t old_csum, std::uint16_t old_word, std::uint16_t new_word);

}  // namespace vd::offload
