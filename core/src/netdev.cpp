#include "veridian/core/netdev.hpp"

namespace vd {

void validate_rss(const RssConfig& c, std::uint16_t rx_queues) {
  const std::size_t n = c.table.size();
  if (c.types & ~std::uint32_t{0x7e})
    throw std::invalid_argument("set_rss: unknown hash type bits " + std::to_string(c.types & ~0x7eu) +
                                " (valid: bits 1..6, ipv4 tcp4 udp4 ipv6 tcp6 udp6)");
  if (c.types != 0 && (n == 0 || n > 128 || (n & (n - 1)) != 0))
    throw std::invalid_argument("set_rss: the indirection table needs a power-of-two length up to 128, got " +
                                std::to_string(n));
  for (std::size_t i = 0; i < n; ++i)
    if (c.table[i] >= rx_queues)
      throw std::invalid_argument("set_rss: table[" + std::to_string(i) + "] = " + std::to_string(c.table[i]) +
                                  " but the device has " + std::to_string(rx_queues) + " RX queues");
}

void NetDevice::set_rss(const RssConfig&) { throw std::runtime_error(kind() + " device: no RSS"); }

}  // namespace vd
