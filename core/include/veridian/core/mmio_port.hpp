// How a driver reaches a PCIe-style device: 32-bit reads and writes of its
// register space (BAR0). DMA needs no port: the device reads and writes
// HostMemory itself, as a bus master does. Interrupts reach the driver
// through whoever owns the device (RtlNic calls NicDriver::handle_irq).
//
// The driver depends on this interface only, never on the RTL harness, so
// another device model (a different NIC, a recorded trace, a test double)
// can stand behind it without touching the driver.
#pragma once

#include <cstdint>

namespace vd {

class MmioPort {
 public:
  virtual ~MmioPort() = default;
  // Posted write: the device may apply it later, but in order with other
  // writes and before the next read returns (PCIe ordering).
  virtual void mmio_write(std::uint32_t addr, std::uint32_t data) = 0;
  // Non-posted read: flushes earlier writes, then returns the register.
  virtual std::uint32_t mmio_read(std::uint32_t addr) = 0;
};

}  // namespace vd
