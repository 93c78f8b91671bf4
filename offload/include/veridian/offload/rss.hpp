// Receive-side scaling reference model: the Toeplitz hash of the Microsoft
// RSS specification, the packet classifier that picks the hash input, and
// the indirection-table lookup.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace vd::offload {

constexpr std::size_t kRssKeyLen = 40;

// Toeplitz hash of `input` under a 40-byte key (Microsoft RSS spec): for
// every set bit i of the input (MSB of byte 0 first), XOR in the 32 key bits
// starting at bit i. The key covers inputs up to 36 bytes (the IPv6 4-tuple);
// for longer inputs key bits past the end are taken as zero.
std::uint32_t toeplitz(std::span<const std::uint8_t, kRssKeyLen> key, std::span<const std::uint8_t> input);

// The hash type reported with the hash (values are the model's own; the
// completion's RSS_TYPE field carries them).
enum class RssType : std::uint8_t {
  none = 0,
  ipv4 = 1,      // src addr, dst addr
  tcp_ipv4 = 2,  // src addr, dst addr, src port, dst port
  udp_ipv4 = 3,
  ipv6 = 4,
  tcp_ipv6 = 5,
  udp_ipv6 = 6,
};
std::string_view to_string(RssType t);

// Per-type enable bits: bit (1 << RssType value).
constexpr std::uint32_t rss_bit(RssType t) { return 1u << static_cast<unsigned>(t); }
constexpr std::uint32_t kRssEnableAll = rss_bit(RssType::ipv4) | rss_bit(RssType::tcp_ipv4) |
                                        rss_bit(RssType::udp_ipv4) | rss_bit(RssType::ipv6) |
                                        rss_bit(RssType::tcp_ipv6) | rss_bit(RssType::udp_ipv6);

struct RssResult {
  std::uint32_t hash = 0;
  RssType type = RssType::none;
  bool operator==(const RssResult&) const = default;
};

// Classifies an Ethernet frame (one optional 802.1Q tag; IPv4 with options;
// IPv6 with hop-by-hop / routing / destination-options / fragment headers
// skipped) and hashes it:
//  * TCP or UDP, not a fragment, its 4-tuple type enabled -> 4-tuple hash;
//  * otherwise (other L4, fragment, 4-tuple type disabled) the 2-tuple type
//    if enabled;
//  * non-IP, malformed (including a TCP/UDP header too short to hold the
//    ports on a non-fragment), or no enabled type -> {0, none}.
// Input layout: src addr, dst addr, src port, dst port, all network order.
// IPv6 uses the header's addresses (no home-address / routing-header
// substitution).
// `parse_window` models the NIC's parser, which sees only the first
// PARSE_WINDOW bytes: an extension header or L4 ports past it give the
// 2-tuple hash (see parse_layout). The default sees the whole frame.
RssResult rss_classify(std::span<const std::uint8_t> frame, std::span<const std::uint8_t, kRssKeyLen> key,
                       std::uint32_t enable = kRssEnableAll, std::size_t parse_window = SIZE_MAX);

// Indirection: queue = table[hash % table.size()]. With the usual
// power-of-two table this uses the hash's low bits, as Linux does
// (ethtool -X; indir[hash & (size - 1)]). An empty table gives queue 0.
std::uint16_t rss_queue(std::uint32_t hash, std::span<const std::uint16_t> table);

}  // namespace vd::offload
