// pcap writer (nanosecond timestamps, Ethernet link type) for link taps.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "veridian/core/time.hpp"

namespace vd::sim {

class PcapWriter {
 public:
  // Throws std::runtime_error if the file cannot be created.
  explicit PcapWriter(const std::string& path, std::uint32_t snaplen = 65535);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  void write(TimePs t, std::span<const std::uint8_t> frame);
  void flush();
  const std::string& path() const { return path_; }
  std::uint64_t frames() const { return frames_; }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  std::uint32_t snaplen_;
  std::uint64_t frames_ = 0;
};

}  // namespace vd::sim
