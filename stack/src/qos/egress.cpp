// The egress seam: every frame the stack sends to a device passes here,
// after the Ethernet header is written. Traffic control (qdiscs, classes,
// shaping) goes in this folder and takes frames here; with none configured
// the frame goes straight to the device's queue 0 and a full device queue
// is a counted drop (eth.tx_queue_full).
#include "stack_impl.hpp"

namespace vd::stack {

bool Stack::Impl::egress_xmit(Iface& ifc, Packet&& frame) { return ifc.dev->transmit(std::move(frame), 0); }

}  // namespace vd::stack
