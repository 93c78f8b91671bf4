// TCP segmentation offload reference model: one TCP "super-frame" in, the
// wire segments out, exactly as the NIC is to produce them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace vd::offload {

// Largest Ethernet + IP (+ extension headers) + TCP header the engine
// replicates into every segment (the RTL's header buffer).
constexpr std::size_t kTsoMaxHeaderLen = 128;

enum class TsoError : std::uint8_t {
  none,
  not_ip,           // ethertype is neither IPv4 nor IPv6
  malformed,        // bad IP version / IHL, TCP data offset < 5
  truncated,        // a header or the IP-declared length runs past the frame
  not_tcp,          // IP payload is not TCP
  fragment,         // the super-frame is itself an IP fragment
  mss_zero,
  header_too_long,  // headers exceed kTsoMaxHeaderLen
};
std::string_view to_string(TsoError e);

struct TsoResult {
  TsoError error = TsoError::none;
  std::vector<std::vector<std::uint8_t>> segments;  // complete Ethernet frames
  bool ok() const { return error == TsoError::none; }
};

// Splits the TCP payload of `frame` (Ethernet, optional 802.1Q tag, IPv4 with
// options or IPv6 with extension headers, TCP with options) into segments of
// at most `mss` payload bytes. The IP datagram's length fields are
// authoritative: bytes after it (Ethernet padding) are ignored. Per segment:
//  * headers copied; IPv4 total length / IPv6 payload length rewritten;
//  * IPv4 ID = original + segment index (mod 2^16); header checksum recomputed;
//  * TCP seq = original + payload offset; CWR kept only on the first segment,
//    FIN and PSH only on the last, all other flags (and options, window,
//    urgent pointer) copied;
//  * TCP checksum fully recomputed with the pseudo-header (the IPv6
//    destination is the header's, routing headers are not followed).
// A frame with no payload gives one segment. Errors are returned, never thrown.
TsoResult tso_segment(std::span<const std::uint8_t> frame, std::uint16_t mss);

}  // namespace vd::offload
