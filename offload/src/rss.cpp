#include "veridian/offload/rss.hpp"

#include "veridian/offload/frame_layout.hpp"

namespace vd::offload {

std::uint32_t toeplitz(std::span<const std::uint8_t, kRssKeyLen> key, std::span<const std::uint8_t> input) {
  // `window` holds key bits [i, i+32) for the current input bit i; 8 more
  // key bits are shifted in after every input byte.
  std::uint64_t window = be::load32(key, 0);
  std::size_t next_key_byte = 4;
  std::uint32_t result = 0;
  for (const std::uint8_t byte : input) {
    const std::uint64_t incoming = next_key_byte < kRssKeyLen ? key[next_key_byte] : 0u;
    ++next_key_byte;
    window = (window << 8) | incoming;  // bits [i, i+40) in the low 40 bits
    for (int b = 7; b >= 0; --b) {
      if ((byte >> b) & 1u) result ^= static_cast<std::uint32_t>(window >> (b + 1));
    }
    window &= 0xffffffffu;
  }
  return result;
}

std::string_view to_string(RssType t) {
  switch (t) {
    case RssType::none: return "none";
    case RssType::ipv4: return "ipv4";
    case RssType::tcp_ipv4: return "tcp_ipv4";
    case RssType::udp_ipv4: return "udp_ipv4";
    case RssType::ipv6: return "ipv6";
    case RssType::tcp_ipv6: return "tcp_ipv6";
    case RssType::udp_ipv6: return "udp_ipv6";
  }
  return "?";
}

RssResult rss_classify(std::span<const std::uint8_t> frame, std::span<const std::uint8_t, kRssKeyLen> key,
                       std::uint32_t enable, std::size_t parse_window) {
  const LayoutResult pr = parse_layout(frame, parse_window);
  if (!pr.ok()) return {};
  const FrameLayout& l = pr.layout;
  const bool v4 = l.l3 == L3Type::ipv4;
  const std::size_t addr_len = v4 ? 4 : 16;
  const std::size_t addr_off = l.l3_off + (v4 ? 12 : 8);  // src then dst, contiguous

  RssType two = v4 ? RssType::ipv4 : RssType::ipv6;
  RssType four = RssType::none;
  if (l.l4_proto == kProtoTcp) four = v4 ? RssType::tcp_ipv4 : RssType::tcp_ipv6;
  if (l.l4_proto == kProtoUdp) four = v4 ? RssType::udp_ipv4 : RssType::udp_ipv6;

  if (four != RssType::none && !l.fragment) {
    const std::size_t need = l.l4_proto == kProtoTcp ? 20 : 8;
    if (l.l4_len() < need) return {};  // malformed L4 header
    if ((enable & rss_bit(four)) && l.l4_off + 4 <= parse_window) {
      std::array<std::uint8_t, 36> in{};
      const auto addrs = frame.subspan(addr_off, 2 * addr_len);
      std::size_t n = 0;
      for (const auto b : addrs) in[n++] = b;
      for (std::size_t i = 0; i < 4; ++i) in[n++] = frame[l.l4_off + i];
      return {toeplitz(key, std::span<const std::uint8_t>(in.data(), n)), four};
    }
  }
  if (enable & rss_bit(two)) return {toeplitz(key, frame.subspan(addr_off, 2 * addr_len)), two};
  return {};
}

std::uint16_t rss_queue(std::uint32_t hash, std::span<const std::uint16_t> table) {
  if (table.empty()) return 0;
  return table[hash % table.size()];
}

}  // namespace vd::offload
