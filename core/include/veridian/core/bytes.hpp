// Big-endian loads and stores over byte spans: how every wire header in
// Veridian is read and written (no casts over packed structs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vd {

namespace be {
inline std::uint16_t load16(std::span<const std::uint8_t> s, std::size_t off) {
  return static_cast<std::uint16_t>((s[off] << 8) | s[off + 1]);
}
inline std::uint32_t load32(std::span<const std::uint8_t> s, std::size_t off) {
  return (std::uint32_t(s[off]) << 24) | (std::uint32_t(s[off + 1]) << 16) | (std::uint32_t(s[off + 2]) << 8) |
         s[off + 3];
}
inline void store16(std::span<std::uint8_t> s, std::size_t off, std::uint16_t v) {
  s[off] = static_cast<std::uint8_t>(v >> 8);
  s[off + 1] = static_cast<std::uint8_t>(v);
}
inline void store32(std::span<std::uint8_t> s, std::size_t off, std::uint32_t v) {
  store16(s, off, static_cast<std::uint16_t>(v >> 16));
  store16(s, off + 2, static_cast<std::uint16_t>(v));
}
}  // namespace be

}  // namespace vd
