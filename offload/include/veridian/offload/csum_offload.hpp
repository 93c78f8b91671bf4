// Checksum offload reference models built on checksum.hpp: TX insertion
// (generic "partial" start/offset as Linux CHECKSUM_PARTIAL, and full
// protocol-aware insertion) and RX verification as reported in the RX
// completion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace vd::offload {

// Linux CHECKSUM_PARTIAL: the 16-bit field at frame[start + offset] already
// holds the folded (not inverted) pseudo-header sum, as the stack leaves it.
// Sums frame[start, end), folds, and stores the complement in the field.
// No protocol knowledge: a 0 result is stored as 0 (UDP's 0 -> 0xFFFF rule
// is the stack's job on this path). As in Linux, `offset` should be even so
// the field is word-aligned relative to `start`. Returns false, touching nothing, when
// start > size or the 2-byte field does not fit.
bool insert_partial(std::span<std::uint8_t> frame, std::size_t start, std::size_t offset);

struct InsertResult {
  bool parsed = false;     // Ethernet + IP parsed (else nothing was written)
  bool ip_header = false;  // IPv4 header checksum written
  bool l4 = false;         // TCP or UDP checksum written
};

// Full insertion: IPv4 header checksum, then the TCP/UDP checksum over IPv4
// or IPv6 (pseudo-header; L4 length from the IP length fields; IPv6
// destination from the fixed header). A UDP result of 0 is sent as 0xFFFF.
// Fragments, other protocols and L4 headers shorter than their minimum get
// no L4 checksum.
InsertResult insert_full(std::span<std::uint8_t> frame);

// Per-layer RX status; the values are the completion's 2-bit CSUM fields.
enum class CsumStatus : std::uint8_t { not_checked = 0, good = 1, bad = 2 };
std::string_view to_string(CsumStatus s);

struct RxCsum {
  CsumStatus ip = CsumStatus::not_checked;  // IPv4 header (IPv6 has none: not_checked)
  CsumStatus l4 = CsumStatus::not_checked;  // TCP/UDP
  bool operator==(const RxCsum&) const = default;
};

// RX verification. Frames that do not parse (non-IP, truncated, bad
// lengths), fragments, other protocols and L4 headers shorter than their
// minimum are not_checked. UDP checksum 0 over IPv4 means "none sent":
// not_checked (accepted); over IPv6 it is forbidden: bad.
// `parse_window` models the NIC, which parses only the first PARSE_WINDOW
// bytes: an extension-header chain that leaves the window (see parse_layout),
// or an L4 header whose first 8 bytes do not lie inside it, gives L4
// not_checked. The default sees the whole frame.
RxCsum verify(std::span<const std::uint8_t> frame, std::size_t parse_window = SIZE_MAX);

}  // namespace vd::offload
