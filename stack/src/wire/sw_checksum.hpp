// The stack's software checksums: the offload library's sums, with the bytes
// counted as host CPU work (core/work.hpp). Every checksum the stack itself
// computes goes through here, so a NIC that verifies or inserts checksums
// shows up as fewer csum_bytes.
#pragma once

#include <cstdint>
#include <span>

#include "veridian/core/work.hpp"
#include "veridian/offload/checksum.hpp"

namespace vd::stack::sw_csum {

using offload::pseudo_header_v4;
using offload::pseudo_header_v6;
using offload::csum_fold;

inline std::uint32_t csum_partial(std::span<const std::uint8_t> data, std::uint32_t initial = 0) {
  count_work(Work::csum_bytes, data.size());
  return offload::csum_partial(data, initial);
}

inline std::uint16_t internet_checksum(std::span<const std::uint8_t> data, std::uint32_t initial = 0) {
  count_work(Work::csum_bytes, data.size());
  return offload::internet_checksum(data, initial);
}

}  // namespace vd::stack::sw_csum
