#include "veridian/sim/pcap.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace vd::sim {
namespace {
void put32(std::uint8_t* p, std::uint32_t v) {  // pcap fields are in the writer's byte order; we pick little-endian
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
}  // namespace

PcapWriter::PcapWriter(const std::string& path, std::uint32_t snaplen) : path_(path), snaplen_(snaplen) {
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) throw std::runtime_error("cannot create pcap file '" + path + "': " + std::strerror(errno));
  std::uint8_t h[24];
  put32(h, 0xa1b23c4d);  // nanosecond-resolution pcap
  put16(h + 4, 2);
  put16(h + 6, 4);
  put32(h + 8, 0);
  put32(h + 12, 0);
  put32(h + 16, snaplen);
  put32(h + 20, 1);  // LINKTYPE_ETHERNET
  std::fwrite(h, 1, sizeof h, f_);
}

PcapWriter::~PcapWriter() {
  if (f_) std::fclose(f_);
}

void PcapWriter::write(TimePs t, std::span<const std::uint8_t> frame) {
  const std::uint64_t ns = t / kPsPerNs;
  const std::uint32_t cap = static_cast<std::uint32_t>(std::min<std::size_t>(frame.size(), snaplen_));
  std::uint8_t h[16];
  put32(h, static_cast<std::uint32_t>(ns / 1'000'000'000ull));
  put32(h + 4, static_cast<std::uint32_t>(ns % 1'000'000'000ull));
  put32(h + 8, cap);
  put32(h + 12, static_cast<std::uint32_t>(frame.size()));
  std::fwrite(h, 1, sizeof h, f_);
  std::fwrite(frame.data(), 1, cap, f_);
  ++frames_;
}

void PcapWriter::flush() { std::fflush(f_); }

}  // namespace vd::sim
